// --progress: the run's figures on stderr as it goes. On a terminal, one
// status line redrawn in place (see diag::set_status_line); otherwise a plain
// message every 10 s.
#pragma once

#include <optional>

#include "base/clock.h"
#include "report/metrics.h"

namespace batchpipe {

class Progress {
 public:
  static constexpr auto kRedrawEvery = std::chrono::milliseconds(200);  ///< on a terminal
  static constexpr auto kLineEvery = std::chrono::seconds(10);          ///< otherwise

  /// `terminal`: stderr is a terminal. Draws nothing until the first tick().
  Progress(const Metrics& metrics, bool terminal, TimePoint now);

  /// When tick() has something to do next.
  TimePoint deadline() const { return next_; }

  /// Redraws the line, or prints one, if it is due.
  void tick(TimePoint now);

  /// Clears the status line for good; a no-op without a terminal.
  void finish();

 private:
  /// Records per second since the last sample at least a second old (the
  /// whole run, at first), so that the rate follows the input's pace.
  double rate(TimePoint now);

  const Metrics& metrics_;
  bool terminal_;
  TimePoint next_;
  TimePoint sample_time_;
  uint64_t sample_records_ = 0;
  double rate_ = 0;
};

}  // namespace batchpipe
