// The one clock batchpipe reads, and turning its deadlines into poll() timeouts.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>

namespace batchpipe {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

/// Milliseconds from now until `deadline` for poll(), rounded up so that a
/// wake-up is never early; -1 (wait for ever) for no deadline.
inline int poll_timeout(std::optional<TimePoint> deadline) {
  if (!deadline) return -1;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, INT32_MAX));
}

}  // namespace batchpipe
