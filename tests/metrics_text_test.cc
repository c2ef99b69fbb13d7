#include <catch2/catch.hpp>

#include "report/metrics_text.h"

using namespace batchpipe;
using namespace std::chrono_literals;

namespace {

void fill_input(Metrics& m) {
  m.started_wall = std::chrono::system_clock::time_point(1700000000500ms);
  m.lines.add(12);
  m.input_bytes.add(345);
  m.records.add(10);
  m.invalid.add(2);
  m.batches.add(3);
  m.output_bytes.add(330);
  m.buffered_bytes.set(40);
  m.buffered_records.set(1);
}

constexpr const char* kInputText = R"(# HELP batchpipe_up 1 while batchpipe runs; 0 in the last write, at exit.
# TYPE batchpipe_up gauge
batchpipe_up 1
# HELP batchpipe_start_time_seconds Start time of the run since the Unix epoch, in seconds.
# TYPE batchpipe_start_time_seconds gauge
batchpipe_start_time_seconds 1700000000.5
# HELP batchpipe_lines_read_total Input lines read, blank and invalid ones included.
# TYPE batchpipe_lines_read_total counter
batchpipe_lines_read_total 12
# HELP batchpipe_bytes_read_total Bytes read from the inputs.
# TYPE batchpipe_bytes_read_total counter
batchpipe_bytes_read_total 345
# HELP batchpipe_records_read_total Records read and accepted for delivery.
# TYPE batchpipe_records_read_total counter
batchpipe_records_read_total 10
# HELP batchpipe_records_invalid_total Invalid lines rejected (--on-invalid skip or fail).
# TYPE batchpipe_records_invalid_total counter
batchpipe_records_invalid_total 2
# HELP batchpipe_lines_utf8_replaced_total Lines sent as JSON strings whose invalid UTF-8 was replaced with U+FFFD.
# TYPE batchpipe_lines_utf8_replaced_total counter
batchpipe_lines_utf8_replaced_total 0
# HELP batchpipe_records_dropped_total Records dropped because the input buffer was full.
# TYPE batchpipe_records_dropped_total counter
batchpipe_records_dropped_total 0
# HELP batchpipe_batches_total Batches closed and handed to the sink.
# TYPE batchpipe_batches_total counter
batchpipe_batches_total 3
# HELP batchpipe_batch_bytes_total Encoded bytes of those batches, newlines included.
# TYPE batchpipe_batch_bytes_total counter
batchpipe_batch_bytes_total 330
# HELP batchpipe_records_undelivered_total Records not delivered, whatever the sink.
# TYPE batchpipe_records_undelivered_total counter
batchpipe_records_undelivered_total 0
# HELP batchpipe_buffered_bytes Bytes read but not yet delivered or given up.
# TYPE batchpipe_buffered_bytes gauge
batchpipe_buffered_bytes 40
# HELP batchpipe_buffered_records Records read but not yet delivered or given up.
# TYPE batchpipe_buffered_records gauge
batchpipe_buffered_records 1
# HELP batchpipe_open_keys Keys with an open batch (routing by field; else 0 or 1).
# TYPE batchpipe_open_keys gauge
batchpipe_open_keys 0
# HELP batchpipe_open_keys_peak The most keys with an open batch at once so far.
# TYPE batchpipe_open_keys_peak gauge
batchpipe_open_keys_peak 0
# HELP batchpipe_buffer_limit_bytes The --max-buffer budget for buffered bytes.
# TYPE batchpipe_buffer_limit_bytes gauge
batchpipe_buffer_limit_bytes 0
)";

}  // namespace

TEST_CASE("prometheus_text without delivery", "[metrics_text]") {
  Metrics m;
  fill_input(m);
  CHECK(prometheus_text(m, true) == kInputText);
  std::string final_text = kInputText;
  final_text.replace(final_text.find("\nbatchpipe_up 1\n"), 16, "\nbatchpipe_up 0\n");
  CHECK(prometheus_text(m, false) == final_text);
}

TEST_CASE("prometheus_text with delivery: counters, gauges and the latency histogram", "[metrics_text]") {
  Metrics m;
  fill_input(m);
  m.delivery = true;
  m.attempts.add(4);
  m.retries.add(1);
  m.delivered_batches.add(2);
  m.delivered_records.add(7);
  m.delivered_bytes.add(220);
  m.failed_batches.add(1);
  m.failed_records.add(3);
  m.dead_lettered.add(3);
  m.undelivered.add(3);
  m.in_flight.set(1);
  m.retrying.set(0);
  m.attempt_latency.observe(3ms);
  m.attempt_latency.observe(10ms);  // on a bound: counted in that bucket (le)
  m.attempt_latency.observe(200ms);
  m.attempt_latency.observe(90s);  // past the last bound: +Inf only
  std::string expected = kInputText;
  expected.replace(expected.find("batchpipe_records_undelivered_total 0"), 37, "batchpipe_records_undelivered_total 3");
  expected += R"(# HELP batchpipe_attempts_total Delivery attempts, retries included.
# TYPE batchpipe_attempts_total counter
batchpipe_attempts_total 4
# HELP batchpipe_retries_total Delivery attempts after a batch's first.
# TYPE batchpipe_retries_total counter
batchpipe_retries_total 1
# HELP batchpipe_batches_delivered_total Batches delivered.
# TYPE batchpipe_batches_delivered_total counter
batchpipe_batches_delivered_total 2
# HELP batchpipe_records_delivered_total Records in the batches delivered.
# TYPE batchpipe_records_delivered_total counter
batchpipe_records_delivered_total 7
# HELP batchpipe_bytes_delivered_total Encoded bytes of the batches delivered.
# TYPE batchpipe_bytes_delivered_total counter
batchpipe_bytes_delivered_total 220
# HELP batchpipe_batches_failed_total Batches given up.
# TYPE batchpipe_batches_failed_total counter
batchpipe_batches_failed_total 1
# HELP batchpipe_records_failed_total Records in the batches given up.
# TYPE batchpipe_records_failed_total counter
batchpipe_records_failed_total 3
# HELP batchpipe_records_rejected_total Records that failed alone in a delivered batch (_bulk items, --map).
# TYPE batchpipe_records_rejected_total counter
batchpipe_records_rejected_total 0
# HELP batchpipe_records_already_stored_total Records the receiver already had (_bulk create answered 409).
# TYPE batchpipe_records_already_stored_total counter
batchpipe_records_already_stored_total 0
# HELP batchpipe_records_resent_total Records sent again in a smaller request (_bulk items answered 429 or 5xx).
# TYPE batchpipe_records_resent_total counter
batchpipe_records_resent_total 0
# HELP batchpipe_requests_too_large_total Requests refused with 413 Payload Too Large.
# TYPE batchpipe_requests_too_large_total counter
batchpipe_requests_too_large_total 0
# HELP batchpipe_requests_split_total Requests split in halves after a 413 or a --bisect-on status.
# TYPE batchpipe_requests_split_total counter
batchpipe_requests_split_total 0
# HELP batchpipe_records_dead_lettered_total Records written to the --dead-letter file.
# TYPE batchpipe_records_dead_lettered_total counter
batchpipe_records_dead_lettered_total 3
# HELP batchpipe_records_left_total Records not delivered that the next run with the same --checkpoint reads again (given up without --dead-letter, or not delivered by a signal's grace).
# TYPE batchpipe_records_left_total counter
batchpipe_records_left_total 0
# HELP batchpipe_batches_in_flight Batches being attempted or waiting for a retry.
# TYPE batchpipe_batches_in_flight gauge
batchpipe_batches_in_flight 1
# HELP batchpipe_batches_retrying Batches waiting for a retry.
# TYPE batchpipe_batches_retrying gauge
batchpipe_batches_retrying 0
# HELP batchpipe_attempt_duration_seconds How long delivery attempts took.
# TYPE batchpipe_attempt_duration_seconds histogram
batchpipe_attempt_duration_seconds_bucket{le="0.005"} 1
batchpipe_attempt_duration_seconds_bucket{le="0.01"} 2
batchpipe_attempt_duration_seconds_bucket{le="0.025"} 2
batchpipe_attempt_duration_seconds_bucket{le="0.05"} 2
batchpipe_attempt_duration_seconds_bucket{le="0.1"} 2
batchpipe_attempt_duration_seconds_bucket{le="0.25"} 3
batchpipe_attempt_duration_seconds_bucket{le="0.5"} 3
batchpipe_attempt_duration_seconds_bucket{le="1"} 3
batchpipe_attempt_duration_seconds_bucket{le="2.5"} 3
batchpipe_attempt_duration_seconds_bucket{le="5"} 3
batchpipe_attempt_duration_seconds_bucket{le="10"} 3
batchpipe_attempt_duration_seconds_bucket{le="30"} 3
batchpipe_attempt_duration_seconds_bucket{le="60"} 3
batchpipe_attempt_duration_seconds_bucket{le="+Inf"} 4
batchpipe_attempt_duration_seconds_sum 90.213
batchpipe_attempt_duration_seconds_count 4
)";
  CHECK(prometheus_text(m, true) == expected);
}

TEST_CASE("prometheus_text: every line is a comment or a sample, and ends with a newline", "[metrics_text]") {
  Metrics m;
  m.delivery = true;
  std::string text = prometheus_text(m, true);
  REQUIRE(!text.empty());
  CHECK(text.back() == '\n');
  CHECK(text.find("\n\n") == std::string::npos);
  CHECK(text.find("batchpipe_attempt_duration_seconds_sum 0\n") != std::string::npos);
}

TEST_CASE("prometheus_text: --metrics-label goes on every series, before batchpipe's own labels", "[metrics_text]") {
  Metrics m;
  m.delivery = true;
  m.upstreams.emplace_back();
  m.upstreams.back().name = "a:80";
  std::string text = prometheus_text(m, true, "instance=\"web1\"");
  size_t samples = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line[0] == '#') continue;
    ++samples;
    INFO(line);
    CHECK(line.find("{instance=\"web1\"") != std::string::npos);
  }
  CHECK(samples > 30);
  CHECK(text.find("batchpipe_up{instance=\"web1\"} 1\n") != std::string::npos);
  CHECK(text.find("batchpipe_attempt_duration_seconds_bucket{instance=\"web1\",le=\"+Inf\"} 0\n") != std::string::npos);
  CHECK(text.find("batchpipe_upstream_up{instance=\"web1\",upstream=\"a:80\"} 0\n") != std::string::npos);
}
