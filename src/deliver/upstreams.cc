#include "deliver/upstreams.h"

#include <algorithm>

namespace batchpipe {

Upstreams::Upstreams(size_t count, Duration cooldown, Duration max_cooldown)
    : nodes_(count), cooldown_(cooldown), max_cooldown_(std::max(cooldown, max_cooldown)) {}

std::optional<size_t> Upstreams::pick(TimePoint now, const std::vector<bool>& tried) {
  size_t n = nodes_.size();
  for (size_t k = 0; k < n; ++k) {
    size_t i = (next_ + k) % n;
    if (tried[i] || !healthy(i, now)) continue;
    next_ = (i + 1) % n;
    return i;
  }
  std::optional<size_t> soonest;
  for (size_t i = 0; i < n; ++i)
    if (!tried[i] && (!soonest || nodes_[i].until < nodes_[*soonest].until)) soonest = i;
  return soonest;
}

bool Upstreams::any_healthy(TimePoint now, const std::vector<bool>& tried) const {
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (!tried[i] && healthy(i, now)) return true;
  return false;
}

Duration Upstreams::failed(size_t url, TimePoint now, std::optional<Duration> retry_after) {
  Node& node = nodes_[url];
  ++node.failures;
  Duration d = cooldown_;
  for (uint32_t k = 1; k < node.failures && d < max_cooldown_; ++k) d *= 2;
  if (retry_after) d = std::max(d, *retry_after);
  d = std::min(d, max_cooldown_);
  node.until = now + d;
  return d;
}

bool Upstreams::answered(size_t url) {
  Node& node = nodes_[url];
  bool was_down = node.failures > 0;
  node = {};
  return was_down;
}

}  // namespace batchpipe
