// When to try a failed delivery again, and after how long: a pure function of
// the attempt count, the outcome, the time spent and a random source, shared
// by every sink.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "deliver/fail_fast.h"
#include "base/unique_fd.h"
#include "base/units.h"

namespace batchpipe {

/// --retries inf: retry until the batch is delivered, its failure turns
/// permanent, --retry-max-time runs out or the run shuts down.
inline constexpr uint32_t kRetriesForever = UINT32_MAX;

struct RetryOptions {
  uint32_t retries = 5;                                 ///< --retries: after the first attempt; kRetriesForever = no limit
  Duration delay = std::chrono::milliseconds(500);      ///< --retry-delay: base of the doubling
  Duration max_delay = std::chrono::seconds(30);        ///< --retry-max-delay: cap of one wait
  Duration max_time = Duration::zero();                 ///< --retry-max-time: budget per batch; zero = none
};

enum class Outcome {
  Delivered,
  Retryable,  ///< worth another try: timeouts, crashes, 5xx, refused connections
  Permanent,  ///< the same bytes will fail again: 4xx, command not found
  Cancelled,  ///< the run is shutting down
};

struct AttemptResult {
  Outcome outcome = Outcome::Delivered;
  std::string detail;                   ///< what happened, e.g. "command exited with status 1"
  std::optional<Duration> retry_after;  ///< the receiver's own word on when to retry
  uint64_t bytes_sent = 0;              ///< body bytes offered, for --verbose
  UniqueFd output{};                    ///< --exec: what the command wrote on its stdout
  int status = 0;                       ///< --post: the HTTP status, 0 if none came
  int exit_status = 0;                  ///< --exec: the command's exit status, 0 if it did not exit
  std::string reply{};                  ///< --post with a reply reader: the response body, whole
  bool receiver_down = false;           ///< no connection, a timeout, a 5xx: another --post URL may do better
  Shared shared = Shared::No;           ///< whether every batch would fail this way (fail_fast.h)
  std::string fix{};                    ///< with `shared`: what the user should change, for the stop message
  /// Some record of the request is bad (--bisect-on, --bisect-reply): split
  /// it until the bad records are alone, as after a 413.
  bool bisect = false;
};

/// The wait before retry `retry` (1-based): uniform in [d/2, d] with
/// d = min(max_delay, delay * 2^(retry-1)).
Duration backoff_delay(const RetryOptions& options, uint32_t retry, std::mt19937_64& rng);

struct RetryDecision {
  bool retry = false;
  Duration delay{0};   ///< when retry is true
  std::string reason;  ///< when retry is false: why we give up, e.g. "no retries left"
};

/// What to do after attempt `attempt` (1-based) ended in `result`, `elapsed`
/// after the batch's first attempt began. A Retry-After replaces the backoff,
/// clamped to max_delay; the batch is given up when the wait (Retry-After as
/// sent) would pass max_time.
RetryDecision decide_retry(const RetryOptions& options, uint32_t attempt, const AttemptResult& result,
                           Duration elapsed, std::mt19937_64& rng);

}  // namespace batchpipe
