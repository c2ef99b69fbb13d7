#include "deliver/token_bucket.h"

#include <algorithm>

namespace batchpipe {
namespace {

/// Rounded up, so that the rate is never exceeded: 3/s is a start every 333,333,334ns.
Duration ceil_div(Duration per, uint64_t count) {
  auto n = static_cast<uint64_t>(per.count());
  return Duration(static_cast<int64_t>((n + count - 1) / count));
}

}  // namespace

TokenBucket::TokenBucket(uint64_t count, Duration per)
    : interval_(std::max<Duration>(Duration(1), ceil_div(per, std::max<uint64_t>(count, 1)))) {}

Duration TokenBucket::take(TimePoint now) {
  // One token at most: time the bucket sat full is not saved up for a burst.
  if (!started_ || next_ < now) next_ = now;
  started_ = true;
  Duration wait = next_ - now;
  next_ += interval_;
  return wait;
}

}  // namespace batchpipe
