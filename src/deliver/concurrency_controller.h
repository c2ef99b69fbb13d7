// --parallel auto: how many attempts may run at once, adapted to how the
// receiver copes (AIMD, after Vector's adaptive request concurrency). Pure:
// the caller passes each finished attempt's end time, latency and kind; no
// clock is read here.
//
// The rule (defaults in ConcurrencyOptions: windows of at least 50 ms, cut
// to 9/10, latency tolerance 1.3x, probe again after 2 s):
//  - The limit starts at 1 and stays within [1, max].
//  - Time is cut into windows of one baseline latency (at least
//    `min_window`), each starting when the limit last changed. A window's
//    attempts are those that began within it (earlier ones ran under an
//    earlier limit); it is judged when an attempt begun after it ends, so
//    that its slow attempts have ended too and count.
//  - The baseline is the lowest window median seen: the receiver's latency
//    when it is not queueing. It does not follow a window's latency up
//    (a baseline that does, like Vector's moving average, follows the
//    receiver's queue as it grows: measured against a receiver slowing above
//    8 at once, it held 28.5 at once). Only at limit 1, where nothing lower
//    is left to try, does a slower window pull it up (1/8 of the gap a
//    window), so a receiver that is slower for good is accepted in time.
//  - A window whose median latency stays within `tolerance` times the
//    baseline, and in which the limit was actually used (an attempt started
//    with every slot taken), raises the limit by one.
//  - An overload (429, 503, a timeout) cuts the limit at once to `decrease`
//    times itself (at least one less); so does a window whose median latency
//    is over tolerance x baseline: the receiver has begun to queue.
//  - The limit at which an overload cut it is a ceiling: it is probed again
//    only `probe_interval` after the cut, so a receiver that refuses a fifth
//    request sees one refusal a probe interval, not one a window. A window
//    that gets through at the ceiling clears it. A cut for latency sets no
//    ceiling: one slow window on a loaded machine would otherwise keep the
//    limit under the knee for the whole interval (measured: 0.75 of the
//    best fixed throughput against a knee of 4).
// Other failures (a refused batch, no connection) say nothing about load
// and are ignored.
//
// Against a receiver whose latency is flat up to K at once and grows in
// proportion above (one that queues what its K workers cannot take), the
// limit climbs to K, passes it by one or two and is cut back (in
// concurrency_controller_test.cc's simulation, between K and 1.3 K + 2;
// bench/adaptive measures a real server).
#pragma once

#include <cstdint>
#include <vector>

#include "base/clock.h"
#include "base/units.h"

namespace batchpipe {

struct ConcurrencyOptions {
  uint32_t max = 32;                                       ///< the :MAX of --parallel auto:MAX
  Duration min_window = std::chrono::milliseconds(50);    ///< shortest window between changes
  Duration probe_interval = std::chrono::seconds(2);      ///< wait before trying a limit that failed again
  double decrease = 0.9;                                   ///< multiplicative cut
  double tolerance = 1.3;                                  ///< latency over this × baseline is "queueing"
};

/// How an attempt ended, as far as load goes.
enum class AttemptSignal {
  Success,   ///< delivered: its latency is a sample
  Overload,  ///< 429, 503 or a timeout: the receiver asks for less
  Other,     ///< any other failure: says nothing about load
};

class ConcurrencyController {
 public:
  ConcurrencyController(ConcurrencyOptions options, TimePoint now);

  uint32_t limit() const { return limit_; }

  /// An attempt ended at `now` after `latency` (so began at now - latency).
  /// `saturated`: it started (or waited for a slot) while every slot of the
  /// limit was taken.
  void record(TimePoint now, Duration latency, AttemptSignal signal, bool saturated);

 private:
  Duration window_length() const;
  void cut(TimePoint now, bool overload);
  void start_window(TimePoint now);

  ConcurrencyOptions options_;
  uint32_t limit_ = 1;
  Duration baseline_{0};  ///< zero until the first window closes
  uint32_t ceiling_ = 0;  ///< a limit that was cut, probed again at probe_at_; 0: none
  TimePoint probe_at_{};

  TimePoint window_start_{};
  std::vector<Duration> window_samples_;  ///< the latencies of the window's deliveries
  bool window_saturated_ = false;
};

}  // namespace batchpipe
