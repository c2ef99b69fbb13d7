#include "stats.h"

#include <fmt/format.h>

namespace batchpipe {

std::string format_stats(const Stats& s, Duration elapsed) {
  double seconds = std::chrono::duration<double>(elapsed).count();
  double rate = seconds > 0 ? static_cast<double>(s.records) / seconds : 0;
  double mb_per_s = seconds > 0 ? static_cast<double>(s.input_bytes) / seconds / 1e6 : 0;
  std::string out = fmt::format(
      "stats: {} lines, {} records in, {} invalid, {} batches, {} bytes out, {:.3f}s, "
      "{:.0f} records/s, {:.1f} MB/s",
      s.lines, s.records, s.invalid, s.batches, s.output_bytes, seconds, rate, mb_per_s);
  if (s.delivery)
    out += fmt::format(", {} batches ({} records) delivered, {} retries, {} failed batches, {} dead-lettered",
                       s.delivered_batches, s.delivered_records, s.retries, s.failed_batches, s.dead_lettered);
  if (s.undelivered) out += fmt::format(", {} undelivered", s.undelivered);
  return out;
}

}  // namespace batchpipe
