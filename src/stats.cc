#include "stats.h"

#include <fmt/format.h>

namespace batchpipe {

// One line, figures without thousands separators: scripts and tests read it
// with patterns such as "N batches (M records) delivered, K retries". Every
// counter of --metrics-file is here; the gauges, near 0 at exit, are not.
std::string format_stats(const Metrics& m, Duration elapsed) {
  double seconds = std::chrono::duration<double>(elapsed).count();
  double rate = seconds > 0 ? static_cast<double>(m.records.get()) / seconds : 0;
  double mb_per_s = seconds > 0 ? static_cast<double>(m.input_bytes.get()) / seconds / 1e6 : 0;
  std::string out = fmt::format(
      "stats: {} lines, {} bytes in, {} records in, {} invalid, {} dropped, {} batches, {} bytes out, {:.3f}s, "
      "{:.0f} records/s, {:.1f} MB/s",
      m.lines.get(), m.input_bytes.get(), m.records.get(), m.invalid.get(), m.dropped.get(), m.batches.get(),
      m.output_bytes.get(), seconds, rate, mb_per_s);
  if (m.delivery)
    out += fmt::format(
        ", {} batches ({} records) delivered, {} retries, {} attempts, {} failed batches ({} records), "
        "{} dead-lettered, {} bytes delivered",
        m.delivered_batches.get(), m.delivered_records.get(), m.retries.get(), m.attempts.get(),
        m.failed_batches.get(), m.failed_records.get(), m.dead_lettered.get(), m.delivered_bytes.get());
  out += fmt::format(", {} undelivered", m.undelivered.get());
  return out;
}

}  // namespace batchpipe
