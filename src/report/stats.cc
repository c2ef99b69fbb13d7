#include "report/stats.h"

#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "base/diagnostics.h"

namespace batchpipe {
namespace {

/// "1 batch", "2 batches", "1,234 records".
std::string count(uint64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", format_count(n), n == 1 ? one : many);
}

}  // namespace

std::vector<std::string> format_stats(const Metrics& m, Duration elapsed) {
  double seconds = std::chrono::duration<double>(elapsed).count();
  std::vector<std::string> out;
  std::string read = fmt::format("stats: read {} ({}): {}", count(m.lines.get(), "line", "lines"),
                                 format_bytes(m.input_bytes.get()), count(m.records.get(), "record", "records"));
  if (m.invalid.get()) read += fmt::format(", {} invalid", format_count(m.invalid.get()));
  if (m.replaced.get())
    read += fmt::format(", {} with invalid UTF-8 replaced", count(m.replaced.get(), "line", "lines"));
  if (m.dropped.get()) read += fmt::format(", {} dropped (--on-full drop)", format_count(m.dropped.get()));
  out.push_back(read);
  out.push_back(fmt::format("stats: {} ({}) in {:.3f}s: {} records/s, {}/s",
                            count(m.batches.get(), "batch", "batches"), format_bytes(m.output_bytes.get()), seconds,
                            format_count(seconds > 0 ? static_cast<uint64_t>(m.records.get() / seconds) : 0),
                            format_bytes(seconds > 0 ? static_cast<uint64_t>(m.input_bytes.get() / seconds) : 0)));
  if (m.open_keys_peak.get() > 1)
    out.push_back(fmt::format("stats: routed by field: {} open now, {} at most at once",
                              count(static_cast<uint64_t>(m.open_keys.get()), "key", "keys"),
                              format_count(static_cast<uint64_t>(m.open_keys_peak.get()))));
  if (m.delivery) {
    out.push_back(fmt::format("stats: delivered {} ({}, {}) in {} ({})",
                              count(m.delivered_batches.get(), "batch", "batches"),
                              count(m.delivered_records.get(), "record", "records"),
                              format_bytes(m.delivered_bytes.get()), count(m.attempts.get(), "attempt", "attempts"),
                              count(m.retries.get(), "retry", "retries")));
    if (m.rejected_records.get() || m.already_stored.get() || m.resent_records.get())
      out.push_back(fmt::format("stats: record by record: {} already stored, {} sent again, {} rejected",
                                format_count(m.already_stored.get()), format_count(m.resent_records.get()),
                                format_count(m.rejected_records.get())));
    if (m.failed_batches.get())
      out.push_back(fmt::format("stats: gave up {} ({}): {} dead-lettered",
                                count(m.failed_batches.get(), "batch", "batches"),
                                count(m.failed_records.get(), "record", "records"),
                                format_count(m.dead_lettered.get())));
  }
  if (m.undelivered.get()) {
    std::string line = fmt::format("stats: {} not delivered", count(m.undelivered.get(), "record", "records"));
    // --checkpoint: those the next run reads again are not lost, and are said so.
    const char* keeper = m.spool ? "--spool" : "--checkpoint";
    if (uint64_t left = m.left_records.get(); left == m.undelivered.get())
      line += fmt::format(": left for the next run ({})", keeper);
    else if (left)
      line += fmt::format(", {} of them left for the next run ({})", format_count(left), keeper);
    out.push_back(line);
  }
  // Mid-run (SIGUSR2): what the --max-buffer budget holds now.
  if (m.buffered_records.get() > 0)
    out.push_back(fmt::format("stats: buffer {} of {} ({} read, not yet committed)",
                              format_bytes(static_cast<uint64_t>(m.buffered_bytes.get())),
                              format_bytes(static_cast<uint64_t>(m.buffer_limit.get())),
                              count(static_cast<uint64_t>(m.buffered_records.get()), "record", "records")));
  if (m.spool)
    out.push_back(fmt::format("stats: left in the spool: {} in {}, the oldest {}s old",
                              format_bytes(static_cast<uint64_t>(std::max<int64_t>(m.spool_bytes.get(), 0))),
                              count(static_cast<uint64_t>(std::max<int64_t>(m.spool_segments.get(), 0)), "segment",
                                    "segments"),
                              m.spool_oldest_seconds.get()));
  return out;
}

std::string stats_json(const Metrics& m, Duration elapsed) {
  std::string out = "{";
  for (const CounterField& c : counter_fields()) {
    if (c.delivery && !m.delivery) continue;
    std::string_view key = c.name;
    key.remove_prefix(std::string_view("batchpipe_").size());
    fmt::format_to(std::back_inserter(out), "\"{}\":{},", key, (m.*c.field).get());
  }
  fmt::format_to(std::back_inserter(out), "\"buffered_bytes\":{},\"buffered_records\":{},", m.buffered_bytes.get(),
                 m.buffered_records.get());
  fmt::format_to(std::back_inserter(out), "\"open_keys\":{},\"open_keys_peak\":{},", m.open_keys.get(),
                 m.open_keys_peak.get());
  if (m.spool)
    fmt::format_to(std::back_inserter(out), "\"spool_bytes\":{},\"spool_segments\":{},\"spool_oldest_seconds\":{},",
                   m.spool_bytes.get(), m.spool_segments.get(), m.spool_oldest_seconds.get());
  fmt::format_to(std::back_inserter(out), "\"seconds\":{:.3f}}}", std::chrono::duration<double>(elapsed).count());
  return out;
}

void print_stats(const Metrics& m, Duration elapsed, StatsFormat format) {
  if (format == StatsFormat::Human) {
    for (const std::string& line : format_stats(m, elapsed)) diag::report(line);
  } else if (format == StatsFormat::Json) {
    diag::raw(stats_json(m, elapsed) + "\n");
  }
}

}  // namespace batchpipe
