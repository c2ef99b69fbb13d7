// The run's counters and gauges: one registry, updated from any thread with
// relaxed atomics, read by --stats, --progress, --metrics-file and SIGUSR2.
// Counters only grow; gauges go up and down.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <span>
#include <string>

#include "base/units.h"

namespace batchpipe {

class Counter {
 public:
  /// Returns the value before.
  uint64_t add(uint64_t n = 1) { return value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  void set(int64_t n) { value_.store(n, std::memory_order_relaxed); }
  int64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

/// Attempt latencies in fixed buckets (seconds, Prometheus style: each
/// bucket counts observations <= its bound; the last is +Inf).
class Histogram {
 public:
  static constexpr std::array<double, 13> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                     1,     2.5,  5,     10,   30,  60};
  void observe(Duration d);
  /// Observations <= kBounds[i]; i == kBounds.size() is the total count.
  uint64_t cumulative(size_t i) const;
  uint64_t count() const { return cumulative(kBounds.size()); }
  double sum_seconds() const { return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9; }

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};  ///< not cumulative
  std::atomic<uint64_t> sum_ns_{0};
};

/// One --post URL's figures, when there are several.
struct UpstreamMetrics {
  std::string name;  ///< "host:port"
  Counter requests;  ///< requests sent there
  Counter failures;  ///< of those, ones that found it unwell (no connection, timeout, 5xx)
  Gauge up;          ///< 1 while it is not put aside
};

struct Metrics {
  // Input (the loop thread).
  Counter lines;               ///< input lines, blank and invalid included
  Counter input_bytes;         ///< bytes read from the inputs
  Counter records;             ///< records accepted for delivery
  Counter invalid;             ///< lines rejected by --on-invalid skip/fail
  Counter replaced;            ///< lines quoted with invalid UTF-8 replaced by U+FFFD
  Counter dropped;             ///< records dropped by --on-full drop
  Counter batches;             ///< batches closed and handed to the sink
  Counter output_bytes;        ///< encoded bytes of those batches

  // Delivery (workers count attempts; the commit step counts the rest).
  bool delivery = false;       ///< --exec/--post: the figures below mean something
  Counter attempts;
  Counter retries;             ///< attempts after a batch's first
  Counter delivered_batches;
  Counter delivered_records;
  Counter delivered_bytes;
  Counter failed_batches;      ///< batches given up
  Counter failed_records;      ///< records in them
  Counter dead_lettered;       ///< records written to the dead-letter file
  Counter left_records;        ///< --checkpoint: records not delivered that the next run reads again
  Counter rejected_records;    ///< records that failed alone in a delivered batch (_bulk items, --map)
  Counter already_stored;      ///< records the receiver had already (_bulk create: 409)
  Counter resent_records;      ///< records sent again alone (_bulk 429/5xx items)
  Counter too_large;           ///< requests refused with 413
  Counter split_requests;      ///< requests split in halves (413, --bisect-on)
  Counter undelivered;         ///< records not delivered, whatever the sink (stdout errors too)
  Histogram attempt_latency;
  std::deque<UpstreamMetrics> upstreams;  ///< one per --post URL when several; filled before the workers start

  // Now.
  Gauge buffered_bytes;        ///< read but not committed (the --max-buffer budget's fill)
  Gauge buffered_records;
  Gauge open_keys;             ///< keys with an open batch (routing by field; else 0 or 1)
  Gauge open_keys_peak;        ///< the most at once so far
  Gauge buffer_limit;          ///< --max-buffer, for the fill ratio
  Gauge in_flight;             ///< batches being attempted or waiting to retry
  Gauge retrying;              ///< of those, waiting for a retry
  Gauge concurrency_limit;     ///< --parallel auto: attempts allowed at once now; 0 without auto

  std::chrono::system_clock::time_point started_wall = std::chrono::system_clock::now();
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

/// Every counter of Metrics with its name and meaning, in one table that the
/// metrics file and --stats=json both read, so they cannot drift apart.
struct CounterField {
  const char* name;  ///< Prometheus name, e.g. "batchpipe_records_read_total"
  const char* help;
  Counter Metrics::*field;
  bool delivery;  ///< only meaningful with --exec/--post
};
std::span<const CounterField> counter_fields();

}  // namespace batchpipe
