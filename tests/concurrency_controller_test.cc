// --parallel auto: the AIMD rule, stepped with a fake clock and made-up
// latencies; nothing sleeps.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "deliver/concurrency_controller.h"

using namespace batchpipe;
using namespace std::chrono_literals;

namespace {

constexpr auto S = AttemptSignal::Success;
constexpr auto O = AttemptSignal::Overload;

/// Drives a controller as a busy engine would, one window at a time: `n`
/// attempts of `latency` begin evenly over the window (min_window by default),
/// and one begun just after it ends and has the window judged.
struct Driver {
  explicit Driver(ConcurrencyOptions options = {}) : c(options, t) {}
  void window(Duration latency, int n = 10, bool saturated = true, Duration length = ConcurrencyOptions{}.min_window) {
    for (int i = 0; i < n; ++i) c.record(start_ + length * i / n + latency, latency, S, saturated);
    start_ += length + latency;
    c.record(start_, latency, S, saturated);
    t = start_;
  }
  void overload(Duration after = 1ms) {
    t += after;
    c.record(t, 0ms, O, true);
    start_ = t;
  }
  TimePoint t{};
  ConcurrencyController c;

 private:
  TimePoint start_{};
};

}  // namespace

TEST_CASE("the limit starts at 1 and rises by one a busy window while latency holds") {
  Driver d;
  CHECK(d.c.limit() == 1);
  for (uint32_t i = 2; i <= 10; ++i) {
    d.window(20ms);
    CHECK(d.c.limit() == i);
  }
}

TEST_CASE("a window is judged when an attempt begun after it ends, its slow attempts included") {
  Driver d;
  d.window(5ms);  // baseline 5 ms
  CHECK(d.c.limit() == 2);
  TimePoint w = d.t;
  // Begun over the first 50 ms (min_window); the slow ones end after it.
  for (int i = 0; i < 5; ++i) d.c.record(w + 5ms * i + 5ms, 5ms, S, true);
  for (int i = 5; i < 10; ++i) d.c.record(w + 5ms * i + 80ms, 80ms, S, true);
  CHECK(d.c.limit() == 2);
  d.c.record(w + 135ms, 80ms, S, true);  // begun at 55 ms: the window is judged, mean 42.5 ms
  CHECK(d.c.limit() == 1);
}

TEST_CASE("a window lasts one baseline latency when that is longer than min_window") {
  Driver d;
  TimePoint t{};
  d.c.record(t + 300ms, 300ms, S, true);  // begun at 0
  d.c.record(t + 400ms, 300ms, S, true);  // begun at 100 ms, after the first window (100 ms): judged
  CHECK(d.c.limit() == 2);                // baseline 300 ms: windows are 300 ms now
  d.c.record(t + 650ms, 240ms, S, true);  // begun at 410 ms
  d.c.record(t + 950ms, 300ms, S, true);  // begun at 650 ms: within 400-700 ms
  CHECK(d.c.limit() == 2);
  d.c.record(t + 1010ms, 300ms, S, true);  // begun at 710 ms: judged
  CHECK(d.c.limit() == 3);
}

TEST_CASE("the limit does not rise when it was not used") {
  Driver d;
  for (int i = 0; i < 20; ++i) d.window(20ms, 10, false);
  CHECK(d.c.limit() == 1);
  d.window(20ms, 10, true);
  CHECK(d.c.limit() == 2);
}

TEST_CASE("the limit stops at max") {
  ConcurrencyOptions o;
  o.max = 4;
  Driver d(o);
  for (int i = 0; i < 20; ++i) d.window(20ms);
  CHECK(d.c.limit() == 4);
}

TEST_CASE("max 0 is taken as 1") {
  ConcurrencyOptions o;
  o.max = 0;
  Driver d(o);
  d.window(20ms);
  CHECK(d.c.limit() == 1);
}

TEST_CASE("an overload cuts the limit at once to three quarters, at least one less, never below 1") {
  auto after_cut = [](uint32_t from) {
    Driver d;
    while (d.c.limit() < from) d.window(20ms);
    d.overload();
    return d.c.limit();
  };
  CHECK(after_cut(1) == 1);
  CHECK(after_cut(2) == 1);
  CHECK(after_cut(3) == 2);
  CHECK(after_cut(4) == 3);
  CHECK(after_cut(5) == 3);
  CHECK(after_cut(8) == 6);
  CHECK(after_cut(20) == 15);
}

TEST_CASE("outcomes of attempts begun before the last change do not count") {
  Driver d;
  while (d.c.limit() < 8) d.window(20ms);
  d.overload();
  CHECK(d.c.limit() == 6);
  TimePoint cut = d.t;
  d.c.record(cut + 10ms, 11ms, O, true);  // began before the cut
  d.c.record(cut + 50ms, 60ms, O, true);
  d.c.record(cut + 200ms, 300ms, S, true);  // nor is a slow one a sample
  CHECK(d.c.limit() == 6);
  d.c.record(cut + 10ms, 10ms, O, true);  // began with the new limit
  CHECK(d.c.limit() == 4);
}

TEST_CASE("other failures neither cut nor count as latency") {
  Driver d;
  d.window(20ms);
  CHECK(d.c.limit() == 2);
  for (int i = 1; i <= 50; ++i) d.c.record(d.t + 10ms * i, 5ms, AttemptSignal::Other, true);
  CHECK(d.c.limit() == 2);  // no sample, no window closed
}

TEST_CASE("latency over twice the baseline cuts; within it the limit keeps rising") {
  Driver d;
  d.window(20ms);
  d.window(20ms);
  CHECK(d.c.limit() == 3);
  d.window(39ms);  // under 2 × 20 ms
  CHECK(d.c.limit() == 4);
  d.window(90ms);
  CHECK(d.c.limit() == 3);
}

TEST_CASE("the baseline is the fastest window, drifting up slowly") {
  Driver d;
  d.window(20ms);
  d.window(10ms);  // baseline 10 ms now
  d.window(21ms);  // over 2 × 10 ms: cut
  CHECK(d.c.limit() == 2);
}

TEST_CASE("at limit 1 a slower receiver becomes the baseline in time") {
  Driver d;
  d.window(10ms);
  CHECK(d.c.limit() == 2);
  d.window(100ms);
  CHECK(d.c.limit() == 1);
  int windows = 0;
  while (d.c.limit() == 1 && windows < 100) {
    d.window(100ms);
    ++windows;
  }
  CHECK(d.c.limit() == 2);
  CHECK(windows < 30);
}

TEST_CASE("a limit that was cut is probed again only after probe_interval") {
  Driver d;
  while (d.c.limit() < 5) d.window(20ms);
  d.overload();  // at 5: ceiling 5, limit 3
  CHECK(d.c.limit() == 3);
  TimePoint cut = d.t;
  d.window(20ms);
  CHECK(d.c.limit() == 4);
  Duration step = ConcurrencyOptions{}.min_window + 20ms;  // what a window() takes
  while (d.t + step < cut + ConcurrencyOptions{}.probe_interval) {
    d.window(20ms);
    CHECK(d.c.limit() == 4);
  }
  d.window(20ms);
  CHECK(d.c.limit() == 5);
  d.window(20ms);  // got through at 5: the ceiling is gone
  CHECK(d.c.limit() == 6);
  d.window(20ms);
  CHECK(d.c.limit() == 7);
}

namespace {

/// A simulated receiver and a busy engine: each 10 ms step, limit() attempts
/// run; `latency(n)` and `refused(n)` say how the receiver treats n at once.
/// Returns the limit at each step and the refusals counted.
template <typename Latency, typename Refused>
std::pair<std::vector<uint32_t>, int> simulate(Duration length, Latency latency, Refused refused) {
  ConcurrencyController c({}, TimePoint{});
  std::vector<uint32_t> limits;
  int refusals = 0;
  for (TimePoint t{}; t < TimePoint{} + length; t += 10ms) {
    uint32_t n = c.limit();
    limits.push_back(n);
    if (refused(n)) {
      ++refusals;
      c.record(t, 1ms, O, true);
    } else {
      c.record(t, latency(n), S, true);
    }
  }
  return {limits, refusals};
}

}  // namespace

TEST_CASE("against latency that jumps above 8 at once, the limit spends most of its time at 6 to 8") {
  auto [limits, refusals] = simulate(
      20s, [](uint32_t n) { return n <= 8 ? Duration(20ms) : Duration(10ms * n); }, [](uint32_t) { return false; });
  CHECK(refusals == 0);
  std::vector<uint32_t> settled(limits.begin() + 300, limits.end());  // after 3 s
  CHECK(*std::max_element(settled.begin(), settled.end()) <= 9);
  auto good = std::count_if(settled.begin(), settled.end(), [](uint32_t n) { return n >= 6 && n <= 8; });
  CHECK(static_cast<double>(good) / static_cast<double>(settled.size()) > 0.9);
}

TEST_CASE("against 429 above 4 at once, one refusal a probe interval once settled") {
  auto [limits, refusals] =
      simulate(30s, [](uint32_t) { return Duration(20ms); }, [](uint32_t n) { return n > 4; });
  CHECK(refusals <= 15 + 2);
  std::vector<uint32_t> settled(limits.begin() + 300, limits.end());
  auto at_four = std::count(settled.begin(), settled.end(), 4u);
  CHECK(static_cast<double>(at_four) / static_cast<double>(settled.size()) > 0.8);
}

TEST_CASE("failures that are not overloads neither cut the limit nor slow its rise") {
  // A quarter of each window's attempts fail at random, as a 500 (answered
  // late, 3x the latency) or a reset (at once); the rest succeed in 20 ms.
  // The limit rises as it does with no failures at all.
  ConcurrencyController clean({}, TimePoint{}), faulty({}, TimePoint{});
  const Duration length = ConcurrencyOptions{}.min_window;
  TimePoint start{};
  uint32_t draw = 12345;  // a fixed LCG: the same "random" pattern every run
  for (int w = 0; w < 20; ++w) {
    for (int i = 0; i < 12; ++i) {
      TimePoint began = start + length * i / 12;
      draw = draw * 1103515245u + 12345u;
      clean.record(began + 20ms, 20ms, AttemptSignal::Success, true);
      switch ((draw >> 16) % 8) {
        case 0: faulty.record(began + 60ms, 60ms, AttemptSignal::Other, true); break;  // 500, late
        case 1: faulty.record(began + 1ms, 1ms, AttemptSignal::Other, true); break;    // reset
        default: faulty.record(began + 20ms, 20ms, AttemptSignal::Success, true);
      }
    }
    start += length + 20ms;
    clean.record(start, 20ms, AttemptSignal::Success, true);
    faulty.record(start, 20ms, AttemptSignal::Success, true);
    CHECK(faulty.limit() == clean.limit());
  }
  CHECK(faulty.limit() == 21);
  // A window of nothing but failures says nothing about load: no cut either.
  for (int i = 0; i < 12; ++i) faulty.record(start + length * i / 12 + 1ms, 1ms, AttemptSignal::Other, true);
  start += length + 1ms;
  faulty.record(start, 1ms, AttemptSignal::Other, true);
  faulty.record(start + 2ms, 1ms, AttemptSignal::Other, true);
  CHECK(faulty.limit() == 21);
}
