#include "deliver/retry_policy.h"

#include <algorithm>

#include <fmt/format.h>

namespace batchpipe {

Duration backoff_delay(const RetryOptions& options, uint32_t retry, std::mt19937_64& rng) {
  Duration d = options.delay;
  for (uint32_t k = 1; k < retry && d < options.max_delay; ++k) d *= 2;
  d = std::min(d, options.max_delay);
  std::uniform_int_distribution<int64_t> pick(d.count() / 2, d.count());
  return Duration(pick(rng));
}

RetryDecision decide_retry(const RetryOptions& options, uint32_t attempt, const AttemptResult& result,
                           Duration elapsed, std::mt19937_64& rng) {
  RetryDecision no;
  switch (result.outcome) {
    case Outcome::Delivered: return no;
    case Outcome::Permanent: no.reason = "not retried"; return no;
    case Outcome::Cancelled: no.reason = "shutting down"; return no;
    case Outcome::Retryable: break;
  }
  if (options.retries != kRetriesForever && attempt > options.retries) {
    no.reason = options.retries == 0 ? "retries are off" : fmt::format("no retries left after {} attempts", attempt);
    return no;
  }
  Duration delay = result.retry_after ? std::min(*result.retry_after, options.max_delay)
                                      : backoff_delay(options, attempt, rng);
  // The receiver's own Retry-After, not its clamped form, says whether waiting can fit the budget.
  Duration wanted = result.retry_after ? *result.retry_after : delay;
  // Compared without adding: a huge Retry-After must not wrap around.
  if (options.max_time != Duration::zero() && wanted > options.max_time - elapsed) {
    no.reason = fmt::format("the next retry would pass --retry-max-time {}", format_duration(options.max_time));
    return no;
  }
  return {true, delay, {}};
}

}  // namespace batchpipe
