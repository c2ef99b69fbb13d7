#include "report/metrics_text.h"

#include <algorithm>
#include <chrono>
#include <iterator>

#include <fmt/format.h>

namespace batchpipe {
namespace {

class Exposition {
 public:
  explicit Exposition(std::string_view labels) : labels_(labels) {}
  void counter(const char* name, const char* help, uint64_t value) {
    head(name, help, "counter");
    fmt::format_to(std::back_inserter(out_), "{} {}\n", labelled(name), value);
  }
  template <typename T>
  void gauge(const char* name, const char* help, T value) {
    head(name, help, "gauge");
    fmt::format_to(std::back_inserter(out_), "{} {}\n", labelled(name), value);
  }
  void histogram(const char* name, const char* help, const Histogram& h) {
    head(name, help, "histogram");
    // One read per bucket; a concurrent observe() may land between two reads,
    // so later buckets are clamped to keep the series cumulative.
    uint64_t previous = 0;
    for (size_t i = 0; i < Histogram::kBounds.size(); ++i) {
      previous = std::max(previous, h.cumulative(i));
      fmt::format_to(std::back_inserter(out_), "{} {}\n",
                     labelled(fmt::format("{}_bucket", name), fmt::format("le=\"{}\"", Histogram::kBounds[i])),
                     previous);
    }
    uint64_t count = std::max(previous, h.count());
    fmt::format_to(std::back_inserter(out_), "{} {}\n", labelled(fmt::format("{}_bucket", name), "le=\"+Inf\""), count);
    fmt::format_to(std::back_inserter(out_), "{} {}\n", labelled(fmt::format("{}_sum", name)), h.sum_seconds());
    fmt::format_to(std::back_inserter(out_), "{} {}\n", labelled(fmt::format("{}_count", name)), count);
  }
  /// Several --post URLs: each figure labelled with its URL's host:port.
  void per_upstream(const std::deque<UpstreamMetrics>& upstreams) {
    if (upstreams.empty()) return;
    auto series = [&](const char* name, const char* help, const char* type, auto value) {
      head(name, help, type);
      for (const UpstreamMetrics& u : upstreams)
        fmt::format_to(std::back_inserter(out_), "{} {}\n", labelled(name, fmt::format("upstream=\"{}\"", u.name)),
                       value(u));
    };
    series("batchpipe_upstream_requests_total", "Requests sent to each --post URL.", "counter",
           [](const UpstreamMetrics& u) { return u.requests.get(); });
    series("batchpipe_upstream_failures_total",
           "Requests that found a --post URL unwell: no connection, a timeout, a 5xx.", "counter",
           [](const UpstreamMetrics& u) { return u.failures.get(); });
    series("batchpipe_upstream_up", "1 while a --post URL is in use, 0 while it is put aside after failing.", "gauge",
           [](const UpstreamMetrics& u) { return u.up.get(); });
  }
  std::string take() { return std::move(out_); }

 private:
  /// `name{labels,own}`, or the bare name when there are neither.
  std::string labelled(std::string_view name, std::string_view own = {}) const {
    if (labels_.empty() && own.empty()) return std::string(name);
    return fmt::format("{}{{{}{}{}}}", name, labels_, !labels_.empty() && !own.empty() ? "," : "", own);
  }
  void head(const char* name, const char* help, const char* type) {
    fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  std::string_view labels_;
  std::string out_;
};

}  // namespace

std::string prometheus_text(const Metrics& m, bool up, std::string_view labels) {
  Exposition e(labels);
  e.gauge("batchpipe_up", "1 while batchpipe runs; 0 in the last write, at exit.", up ? 1 : 0);
  e.gauge("batchpipe_start_time_seconds", "Start time of the run since the Unix epoch, in seconds.",
          std::chrono::duration<double>(m.started_wall.time_since_epoch()).count());

  for (const CounterField& c : counter_fields())
    if (!c.delivery) e.counter(c.name, c.help, (m.*c.field).get());
  e.gauge("batchpipe_buffered_bytes", "Bytes read but not yet delivered or given up.",
          m.buffered_bytes.get());
  e.gauge("batchpipe_buffered_records", "Records read but not yet delivered or given up.",
          m.buffered_records.get());
  e.gauge("batchpipe_open_keys", "Keys with an open batch (routing by field; else 0 or 1).", m.open_keys.get());
  e.gauge("batchpipe_open_keys_peak", "The most keys with an open batch at once so far.", m.open_keys_peak.get());
  e.gauge("batchpipe_buffer_limit_bytes", "The --max-buffer budget for buffered bytes.", m.buffer_limit.get());
  if (!m.delivery) return e.take();

  for (const CounterField& c : counter_fields())
    if (c.delivery) e.counter(c.name, c.help, (m.*c.field).get());
  e.gauge("batchpipe_batches_in_flight", "Batches being attempted or waiting for a retry.",
          m.in_flight.get());
  e.gauge("batchpipe_batches_retrying", "Batches waiting for a retry.", m.retrying.get());
  if (m.concurrency_limit.get() > 0)
    e.gauge("batchpipe_concurrency_limit", "--parallel auto: how many attempts may run at once now.",
            m.concurrency_limit.get());
  e.histogram("batchpipe_attempt_duration_seconds", "How long delivery attempts took.", m.attempt_latency);
  e.per_upstream(m.upstreams);
  return e.take();
}

}  // namespace batchpipe
