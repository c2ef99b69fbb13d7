// Several --post URLs: each worker holds a transport (a connection) per URL
// and sends each attempt to the next healthy one; an attempt that finds its
// receiver unwell is sent to another healthy URL at once, within the same
// attempt, so it costs no retry. The URLs' health is shared by all workers.
#pragma once

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "deliver/transport.h"
#include "deliver/upstreams.h"
#include "report/metrics.h"

namespace batchpipe {

/// The URLs' health (Upstreams) under a lock, with the messages and metrics
/// that go with it. One for the run, shared by every worker.
class UpstreamSet {
 public:
  /// `names`: "host:port" of each URL. Cool-downs start at `cooldown` and
  /// double up to `max_cooldown`. Adds one entry per URL to metrics.upstreams.
  UpstreamSet(std::vector<std::string> names, Duration cooldown, Duration max_cooldown, Metrics& metrics);

  std::optional<size_t> pick(const std::vector<bool>& tried);
  bool any_healthy(const std::vector<bool>& tried);
  /// The receiver at `url` is unwell: put it aside (and say so, unless a
  /// failure of another worker's request already did).
  void failed(size_t url, const AttemptResult& result);
  /// The receiver at `url` answered (and is back, if it had failed).
  void answered(size_t url);
  const std::string& name(size_t url) const { return names_[url]; }
  size_t size() const { return names_.size(); }

 private:
  std::mutex mutex_;
  Upstreams upstreams_;
  std::vector<std::string> names_;
  Metrics& metrics_;
};

/// Whether a failed attempt says its receiver is unwell, rather than
/// refusing this batch: no connection, a timeout, a 5xx.
inline bool receiver_unwell(const AttemptResult& r) { return r.outcome == Outcome::Retryable && r.receiver_down; }

class FailoverTransport : public Transport {
 public:
  /// `per_url[i]` sends to URL i of `set`.
  FailoverTransport(std::vector<std::unique_ptr<Transport>> per_url, std::shared_ptr<UpstreamSet> set)
      : per_url_(std::move(per_url)), set_(std::move(set)) {}

  /// Sends to the next healthy URL; while the receiver is unwell and another
  /// URL not yet tried is healthy, sends there at once, each request with
  /// its own --timeout. Returns the last request's result: the engine
  /// retries (and counts) only when no healthy URL is left.
  AttemptResult attempt(const Batch& batch, const AttemptInfo& info, AttemptControl& control) override;
  uint64_t held_bytes() const override {
    uint64_t sum = 0;
    for (const auto& t : per_url_) sum += t->held_bytes();
    return sum;
  }
  uint64_t would_hold(const Batch& batch) const override {
    uint64_t most = 0;
    for (const auto& t : per_url_) most = std::max(most, t->would_hold(batch));
    return most;
  }

 private:
  std::vector<std::unique_ptr<Transport>> per_url_;
  std::shared_ptr<UpstreamSet> set_;
};

}  // namespace batchpipe
