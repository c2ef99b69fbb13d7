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
  d.c.record(w + 135ms, 80ms, S, true);  // begun at 55 ms: the window is judged, median 80 ms
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

TEST_CASE("a window is judged by its median: a few stalled attempts do not cut") {
  Driver d;
  d.window(20ms);
  CHECK(d.c.limit() == 2);
  TimePoint w = d.t;
  for (int i = 0; i < 7; ++i) d.c.record(w + 5ms * i + 20ms, 20ms, S, true);
  for (int i = 7; i < 10; ++i) d.c.record(w + 5ms * i + 200ms, 200ms, S, true);  // a stalled machine
  d.c.record(w + 80ms, 20ms, S, true);  // begun at 60 ms: judged, median 20 ms
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

TEST_CASE("an overload cuts the limit at once to nine tenths, at least one less, never below 1") {
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
  CHECK(after_cut(5) == 4);
  CHECK(after_cut(8) == 7);
  CHECK(after_cut(10) == 9);
  CHECK(after_cut(20) == 18);
}

TEST_CASE("outcomes of attempts begun before the last change do not count") {
  Driver d;
  while (d.c.limit() < 8) d.window(20ms);
  d.overload();
  CHECK(d.c.limit() == 7);
  TimePoint cut = d.t;
  d.c.record(cut + 10ms, 11ms, O, true);  // began before the cut
  d.c.record(cut + 50ms, 60ms, O, true);
  d.c.record(cut + 200ms, 300ms, S, true);  // nor is a slow one a sample
  CHECK(d.c.limit() == 7);
  d.c.record(cut + 10ms, 10ms, O, true);  // began with the new limit
  CHECK(d.c.limit() == 6);
}

TEST_CASE("other failures neither cut nor count as latency") {
  Driver d;
  d.window(20ms);
  CHECK(d.c.limit() == 2);
  for (int i = 1; i <= 50; ++i) d.c.record(d.t + 10ms * i, 5ms, AttemptSignal::Other, true);
  CHECK(d.c.limit() == 2);  // no sample, no window closed
}

TEST_CASE("latency over 1.3 times the baseline cuts; within it the limit keeps rising") {
  Driver d;
  d.window(20ms);
  d.window(20ms);
  CHECK(d.c.limit() == 3);
  d.window(25ms);  // under 1.3 × 20 ms
  CHECK(d.c.limit() == 4);
  d.window(27ms);
  CHECK(d.c.limit() == 3);
}

TEST_CASE("the baseline does not follow slower windows up while the limit is above 1") {
  // A moving baseline follows the receiver's queue as it grows: each window
  // a little slower than the last would raise the limit for ever.
  Driver d;
  d.window(20ms);
  Duration latency = 20ms;
  for (int i = 0; i < 30; ++i) {
    latency = latency * 21 / 20;  // 5% slower a window
    d.window(latency);
  }
  // 20 × 1.05^6 = 26.8 ms is the first window over 1.3 × 20 ms; every later one is too.
  CHECK(d.c.limit() <= 7);
}

TEST_CASE("the baseline is the fastest window, drifting up slowly") {
  Driver d;
  d.window(20ms);
  d.window(10ms);  // baseline 10 ms now
  d.window(21ms);  // over 1.3 × 10 ms: cut
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

TEST_CASE("a cut for latency sets no ceiling: the next good window raises the limit again") {
  // A window a loaded machine made slow is noise as often as not; holding
  // the limit under it for probe_interval kept the limit under the knee.
  Driver d;
  while (d.c.limit() < 5) d.window(20ms);
  d.window(40ms);
  CHECK(d.c.limit() == 4);
  d.window(20ms);
  CHECK(d.c.limit() == 5);
  d.window(20ms);
  CHECK(d.c.limit() == 6);
}

TEST_CASE("a limit that was cut is probed again only after probe_interval") {
  Driver d;
  while (d.c.limit() < 5) d.window(20ms);
  d.overload();  // at 5: ceiling 5, limit 4
  CHECK(d.c.limit() == 4);
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

/// A simulated receiver and a busy engine, event by event: the engine always
/// has a batch waiting, so whenever fewer than limit() attempts run, one
/// starts. The receiver answers an attempt after `latency(n)`, n being how
/// many it holds once that one has arrived (itself included), or refuses it
/// at once with a 429 when `refused(n)`. `fixed` > 0 runs that many at once
/// with no controller, to compare with.
struct Run {
  double mean_in_flight = 0;  ///< over the judged span, weighted by time
  int most_in_flight = 0;     ///< over the judged span
  double throughput = 0;      ///< deliveries a second over the judged span
  double refusals_per_second = 0;
  double mean_latency_ms = 0;
};

template <typename Latency, typename Refused>
Run simulate(uint32_t fixed, Duration settle, Duration length, Latency latency, Refused refused) {
  ConcurrencyOptions options;
  options.max = 32;
  ConcurrencyController c(options, TimePoint{});
  auto limit = [&] { return fixed ? fixed : c.limit(); };
  struct Running {
    TimePoint end;
    Duration latency;
    bool refused;
  };
  std::vector<Running> running;  // few: a linear scan finds the next to end
  const TimePoint from = TimePoint{} + settle, to = from + length;
  TimePoint t{};
  double in_flight_time = 0, latency_sum = 0;
  int delivered = 0, refusals = 0, most = 0;
  while (t < to) {
    while (running.size() < limit()) {
      int n = static_cast<int>(running.size()) + 1;
      bool no = refused(n);
      Duration d = no ? Duration(1ms) : Duration(latency(n));
      running.push_back({t + d, d, no});
      if (t >= from) most = std::max(most, n);
    }
    // Of attempts that end at the same instant, a refusal is seen first (a
    // real clock never ties; here it would let attempts start at a limit
    // already refused).
    auto next = std::min_element(running.begin(), running.end(), [](const Running& a, const Running& b) {
      return a.end < b.end || (a.end == b.end && a.refused && !b.refused);
    });
    Running done = *next;
    running.erase(next);
    if (done.end > from) {
      TimePoint span_start = std::max(t, from);
      in_flight_time += static_cast<double>(running.size() + 1) *
                        std::chrono::duration<double>(done.end - span_start).count();
    }
    t = done.end;
    if (t >= from && t < to) {
      if (done.refused)
        ++refusals;
      else {
        ++delivered;
        latency_sum += std::chrono::duration<double, std::milli>(done.latency).count();
      }
    }
    if (!fixed) c.record(t, done.latency, done.refused ? O : S, true);
  }
  double seconds = std::chrono::duration<double>(length).count();
  return {in_flight_time / seconds, most, delivered / seconds, refusals / seconds,
          delivered ? latency_sum / delivered : 0};
}

/// Flat `base` up to `knee` at once, in proportion above: a receiver with
/// `knee` workers that queues the rest. Its throughput is the same for any
/// n >= knee; only the latency (and its queue) grows.
auto queueing(uint32_t knee, Duration base = 20ms) {
  return [=](int n) { return n <= static_cast<int>(knee) ? base : base * n / knee; };
}

auto never(int) { return false; }

/// `queueing(knee)`, each answer 0 to 20% slower at random (a fixed LCG:
/// the same every run).
auto jittery(uint32_t knee) {
  return [model = queueing(knee), draw = uint32_t{777}](int n) mutable {
    draw = draw * 1103515245u + 12345u;
    return model(n) * (100 + (draw >> 16) % 21) / 100;
  };
}

/// The fixed --parallel of 1, 2, 4 ... 32 that delivers most against `latency`.
template <typename Latency>
Run best_fixed(Latency latency) {
  Run best;
  for (uint32_t j : {1u, 2u, 4u, 8u, 16u, 32u}) {
    Run r = simulate(j, 0s, 20s, latency, never);
    if (r.throughput > best.throughput) best = r;
  }
  return best;
}

}  // namespace

TEST_CASE("simulated knee: the mean in flight settles within 1.5 K, throughput at least 90% of the best fixed") {
  for (uint32_t knee : {4u, 8u}) {
    CAPTURE(knee);
    Run fixed = best_fixed(queueing(knee));
    Run automatic = simulate(0, 5s, 60s, queueing(knee), never);
    CAPTURE(automatic.mean_in_flight, automatic.most_in_flight, automatic.throughput, fixed.throughput,
            automatic.mean_latency_ms);
    CHECK(automatic.mean_in_flight >= knee);
    CHECK(automatic.mean_in_flight <= 1.5 * knee);
    CHECK(automatic.most_in_flight <= static_cast<int>(1.3 * knee) + 2);
    CHECK(automatic.throughput >= 0.9 * fixed.throughput);
    CHECK(automatic.mean_latency_ms <= 1.5 * 20);
  }
}

TEST_CASE("simulated knee: settled after a few seconds from the start") {
  // 20 ms windows at most from 1 to K, then round the knee: well within 3 s.
  for (uint32_t knee : {4u, 8u, 16u}) {
    CAPTURE(knee);
    Run r = simulate(0, 3s, 10s, queueing(knee), never);
    CAPTURE(r.mean_in_flight, r.most_in_flight);
    CHECK(r.mean_in_flight >= knee);
    CHECK(r.mean_in_flight <= 1.5 * knee);
  }
}

TEST_CASE("simulated knee with jitter: still within 1.5 K and 90% of the best fixed") {
  for (uint32_t knee : {4u, 8u}) {
    CAPTURE(knee);
    Run fixed = best_fixed(jittery(knee));
    Run automatic = simulate(0, 5s, 60s, jittery(knee), never);
    CAPTURE(automatic.mean_in_flight, automatic.most_in_flight, automatic.throughput, fixed.throughput);
    CHECK(automatic.mean_in_flight <= 1.5 * knee);
    CHECK(automatic.throughput >= 0.9 * fixed.throughput);
  }
}

TEST_CASE("simulated latency that jumps above 8 at once: the limit stays at or just above 8") {
  Run r = simulate(0, 5s, 30s, [](int n) { return n <= 8 ? Duration(20ms) : Duration(10ms * n); }, never);
  CAPTURE(r.mean_in_flight, r.most_in_flight);
  CHECK(r.most_in_flight <= 9);
  CHECK(r.mean_in_flight >= 7.5);
}

TEST_CASE("simulated 429 above K at once: fewer than one refusal a second once settled") {
  for (uint32_t knee : {4u, 8u}) {
    CAPTURE(knee);
    auto refused = [=](int n) { return n > static_cast<int>(knee); };
    Run r = simulate(0, 5s, 60s, [](int) { return Duration(20ms); }, refused);
    CAPTURE(r.refusals_per_second, r.mean_in_flight, r.throughput);
    CHECK(r.refusals_per_second < 1.0);
    CHECK(r.throughput >= 0.9 * knee / 0.020);  // K at once, 20 ms each
  }
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
