// --rate N/s: a token bucket over request starts, handed the time. Pure: no
// clock, no threads; the caller locks it and waits what it says.
#pragma once

#include <cstdint>

#include "base/clock.h"
#include "base/units.h"

namespace batchpipe {

/// At most `count` requests per `per`, evenly spaced: the bucket holds one
/// token and gains one every per/count, so starts never bunch up. A start
/// is reserved at once, in the order take() is called; a taker that must
/// wait is told how long, and the next taker queues behind it (a debt), so
/// several workers sharing one bucket are served in turn and none starves.
class TokenBucket {
 public:
  /// `count` >= 1, `per` > 0.
  TokenBucket(uint64_t count, Duration per);

  /// Takes the next start at `now` (which never goes back): zero if it may
  /// start now, else how long after `now` it may.
  Duration take(TimePoint now);

  /// The time between two starts: per/count.
  Duration interval() const { return interval_; }

 private:
  Duration interval_;
  TimePoint next_{};  ///< when the next start is free; the epoch before the first take()
  bool started_ = false;
};

/// A rate as the user wrote it: "20/s", "600/m", "1.5/s" is not one.
struct Rate {
  uint64_t count = 0;  ///< 0: no limit
  Duration per{0};
};

}  // namespace batchpipe
