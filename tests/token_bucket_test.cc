// --rate: the token bucket, stepped with a fake clock.
#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include "deliver/token_bucket.h"

using namespace batchpipe;
using namespace std::chrono_literals;

TEST_CASE("the first start is free, the next ones are spaced by per/count") {
  TokenBucket b(20, 1s);
  TimePoint t{};
  CHECK(b.interval() == 50ms);
  CHECK(b.take(t) == 0s);
  CHECK(b.take(t) == 50ms);   // a second taker at the same moment waits one interval
  CHECK(b.take(t) == 100ms);  // and a third queues behind it
  CHECK(b.take(t + 150ms) == 0s);
  CHECK(b.take(t + 160ms) == 40ms);
}

TEST_CASE("idle time is not saved up: no burst after a pause") {
  TokenBucket b(10, 1s);
  TimePoint t{};
  CHECK(b.take(t) == 0s);
  t += 10s;
  CHECK(b.take(t) == 0s);
  CHECK(b.take(t) == 100ms);
}

TEST_CASE("per minute") {
  TokenBucket b(6, 1min);
  TimePoint t{};
  CHECK(b.take(t) == 0s);
  CHECK(b.take(t + 1s) == 9s);
}

// Greedy takers (each starts the moment it is allowed to) against the
// bucket: in every window of the run the starts stay within the rate, and
// over the run they reach it.
TEST_CASE("greedy workers get exactly the rate over any window") {
  for (uint64_t count : {1u, 3u, 20u, 1000u}) {
    for (int workers : {1, 4, 16}) {
      TokenBucket b(count, 1s);
      std::vector<TimePoint> ready(static_cast<size_t>(workers), TimePoint{});
      std::vector<TimePoint> starts;
      const TimePoint end = TimePoint{} + 5s;
      for (;;) {
        auto w = std::min_element(ready.begin(), ready.end());  // the next worker to ask
        if (*w >= end) break;
        TimePoint start = *w + b.take(*w);
        starts.push_back(start);
        *w = start + 1ms;  // a quick request, then it asks again
      }
      size_t in_run = static_cast<size_t>(std::count_if(starts.begin(), starts.end(), [&](TimePoint s) { return s < end; }));
      CAPTURE(count, workers);
      CHECK(in_run == 5 * count);
      // Any one-second window holds at most `count` starts.
      std::sort(starts.begin(), starts.end());
      for (size_t i = 0; i + count < starts.size(); ++i) CHECK(starts[i + count] - starts[i] >= 1s);
    }
  }
}

TEST_CASE("a slow receiver gets fewer starts, never a catch-up burst") {
  TokenBucket b(10, 1s);
  TimePoint t{};
  std::vector<Duration> waits;
  for (int i = 0; i < 5; ++i) {
    waits.push_back(b.take(t));
    t += waits.back() + 300ms;  // each request takes 300ms, on one worker
  }
  for (Duration w : waits) CHECK(w == 0s);
  CHECK(b.take(t) == 0s);
  CHECK(b.take(t) == 100ms);
}
