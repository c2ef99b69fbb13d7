// The run's periodic reports, which the event loop drives: --metrics-file
// rewritten every 5 s and the --progress line. Handed the time, like the
// batcher; the loop waits for deadline() along with its own.
#pragma once

#include <optional>
#include <string>

#include "base/clock.h"
#include "cli/config.h"
#include "report/metrics.h"
#include "report/metrics_file.h"
#include "report/progress.h"

namespace batchpipe {

class Reporter {
 public:
  static constexpr auto kMetricsEvery = std::chrono::seconds(5);

  /// `stderr_terminal`: whether --progress draws a status line or prints lines.
  Reporter(const Config& config, const Metrics& metrics, bool stderr_terminal, TimePoint now);

  /// Writes the metrics file for the first time (batchpipe_up 1). Returns ""
  /// or, when it cannot be written, the message for a usage error.
  std::string start();

  /// The earliest time tick() has work to do; nothing if it never has.
  std::optional<TimePoint> deadline() const;

  /// Does what is due. A metrics file that cannot be written is warned about
  /// once in the run, which goes on; later writes still try.
  void tick(TimePoint now);

  /// At exit, once the figures are final: clears the status line and writes
  /// the metrics file a last time, with batchpipe_up 0.
  void finish();

 private:
  void write_metrics(bool up);

  const Metrics& metrics_;
  std::optional<MetricsFile> file_;
  std::string labels_;  ///< --metrics-label, formatted for every series
  std::optional<Progress> progress_;
  TimePoint next_write_;
  bool warned_ = false;
  bool finished_ = false;
};

}  // namespace batchpipe
