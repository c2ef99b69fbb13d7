#include "report/reporter.h"

#include "base/diagnostics.h"
#include "report/metrics_labels.h"
#include "report/metrics_text.h"

namespace batchpipe {

Reporter::Reporter(const Config& config, const Metrics& metrics, bool stderr_terminal, TimePoint now)
    : metrics_(metrics), next_write_(now + kMetricsEvery) {
  if (!config.metrics_file.empty()) file_.emplace(config.metrics_file);
  labels_ = format_metrics_labels(config.metrics_labels);
  if (config.progress) progress_.emplace(metrics, stderr_terminal, now);
}

std::string Reporter::start() {
  if (!file_) return "";
  std::string error = file_->write(prometheus_text(metrics_, true, labels_));
  return error.empty() ? "" : "--metrics-file: " + error;
}

std::optional<TimePoint> Reporter::deadline() const {
  std::optional<TimePoint> earliest;
  if (file_) earliest = next_write_;
  if (progress_ && (!earliest || progress_->deadline() < *earliest)) earliest = progress_->deadline();
  return earliest;
}

void Reporter::tick(TimePoint now) {
  if (file_ && now >= next_write_) {
    write_metrics(true);
    next_write_ = now + kMetricsEvery;
  }
  if (progress_) progress_->tick(now);
}

void Reporter::finish() {
  if (finished_) return;
  finished_ = true;
  if (progress_) progress_->finish();
  if (file_) write_metrics(false);
}

void Reporter::write_metrics(bool up) {
  std::string error = file_->write(prometheus_text(metrics_, up, labels_));
  if (!error.empty() && !warned_) {
    warned_ = true;
    diag::warning("--metrics-file: " + error + "; going on (further write errors are not reported)");
  }
}

}  // namespace batchpipe
