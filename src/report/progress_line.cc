#include "report/progress_line.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "base/units.h"

namespace batchpipe {
namespace {

/// A gauge for display: a transient negative value (updates from several
/// threads land in any order) shows as 0.
uint64_t clamped(int64_t gauge) { return static_cast<uint64_t>(std::max<int64_t>(gauge, 0)); }

}  // namespace

// The figures that matter most come first: a narrow terminal cuts the end.
std::string progress_line(const Metrics& m, double rate, uint64_t buffer_budget) {
  std::string out = fmt::format("{} records in, {}/s", format_count(m.records.get()),
                                format_count(static_cast<uint64_t>(std::llround(std::max(rate, 0.0)))));
  if (m.delivery)
    out += fmt::format(", {} delivered, {} in flight{}", format_count(m.delivered_records.get()),
                       format_count(clamped(m.in_flight.get())),
                       m.concurrency_limit.get() > 0 ? fmt::format(" (limit {})", m.concurrency_limit.get()) : "");
  else
    out += fmt::format(", {} batches out", format_count(m.batches.get()));
  uint64_t buffered = clamped(m.buffered_bytes.get());
  if (buffer_budget > 0)
    out += fmt::format(", buffer {:.0f}% of {}", 100.0 * static_cast<double>(buffered) / static_cast<double>(buffer_budget),
                       format_bytes(buffer_budget));
  else
    out += fmt::format(", buffer {}", format_bytes(buffered));
  if (m.spool)
    out += fmt::format(", spool {} in {} segment{}, oldest {}s", format_bytes(clamped(m.spool_bytes.get())),
                       format_count(clamped(m.spool_segments.get())), m.spool_segments.get() == 1 ? "" : "s",
                       format_count(clamped(m.spool_oldest_seconds.get())));
  if (m.delivery)
    out += fmt::format(", {} retrying, {} dead-lettered", format_count(clamped(m.retrying.get())),
                       format_count(m.dead_lettered.get()));
  out += fmt::format(", {} dropped", format_count(m.dropped.get()));
  return out;
}

}  // namespace batchpipe
