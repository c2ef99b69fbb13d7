#include "report/metrics.h"

#include <algorithm>

namespace batchpipe {

void Histogram::observe(Duration d) {
  double seconds = std::chrono::duration<double>(d).count();
  size_t i = static_cast<size_t>(std::lower_bound(kBounds.begin(), kBounds.end(), seconds) - kBounds.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(std::max<int64_t>(d.count(), 0)), std::memory_order_relaxed);
}

std::span<const CounterField> counter_fields() {
  static const CounterField fields[] = {
      {"batchpipe_lines_read_total", "Input lines read, blank and invalid ones included.", &Metrics::lines, false},
      {"batchpipe_bytes_read_total", "Bytes read from the inputs.", &Metrics::input_bytes, false},
      {"batchpipe_records_read_total", "Records read and accepted for delivery.", &Metrics::records, false},
      {"batchpipe_records_invalid_total", "Invalid lines rejected (--on-invalid skip or fail).", &Metrics::invalid,
       false},
      {"batchpipe_lines_utf8_replaced_total", "Lines sent as JSON strings whose invalid UTF-8 was replaced with U+FFFD.",
       &Metrics::replaced, false},
      {"batchpipe_records_dropped_total", "Records dropped because the input buffer was full.", &Metrics::dropped,
       false},
      {"batchpipe_batches_total", "Batches closed and handed to the sink.", &Metrics::batches, false},
      {"batchpipe_batch_bytes_total", "Encoded bytes of those batches, newlines included.", &Metrics::output_bytes,
       false},
      {"batchpipe_records_undelivered_total", "Records not delivered, whatever the sink.", &Metrics::undelivered,
       false},
      {"batchpipe_attempts_total", "Delivery attempts, retries included.", &Metrics::attempts, true},
      {"batchpipe_retries_total", "Delivery attempts after a batch's first.", &Metrics::retries, true},
      {"batchpipe_batches_delivered_total", "Batches delivered.", &Metrics::delivered_batches, true},
      {"batchpipe_records_delivered_total", "Records in the batches delivered.", &Metrics::delivered_records, true},
      {"batchpipe_bytes_delivered_total", "Encoded bytes of the batches delivered.", &Metrics::delivered_bytes, true},
      {"batchpipe_batches_failed_total", "Batches given up.", &Metrics::failed_batches, true},
      {"batchpipe_records_failed_total", "Records in the batches given up.", &Metrics::failed_records, true},
      {"batchpipe_records_rejected_total", "Records that failed alone in a delivered batch (_bulk items, --map).",
       &Metrics::rejected_records, true},
      {"batchpipe_records_already_stored_total", "Records the receiver already had (_bulk create answered 409).",
       &Metrics::already_stored, true},
      {"batchpipe_records_resent_total", "Records sent again in a smaller request (_bulk items answered 429 or 5xx).",
       &Metrics::resent_records, true},
      {"batchpipe_requests_too_large_total", "Requests refused with 413 Payload Too Large.", &Metrics::too_large,
       true},
      {"batchpipe_requests_split_total", "Requests split in halves after a 413 or a --bisect-on status.",
       &Metrics::split_requests, true},
      {"batchpipe_records_dead_lettered_total", "Records written to the --dead-letter file.", &Metrics::dead_lettered,
       true},
      {"batchpipe_records_left_total",
       "Records not delivered that the next run with the same --checkpoint reads again (given up without "
       "--dead-letter, or not delivered by a signal's grace).",
       &Metrics::left_records, true},
  };
  return fields;
}

uint64_t Histogram::cumulative(size_t i) const {
  uint64_t total = 0;
  for (size_t j = 0; j <= i && j < buckets_.size(); ++j) total += buckets_[j].load(std::memory_order_relaxed);
  return total;
}

}  // namespace batchpipe
