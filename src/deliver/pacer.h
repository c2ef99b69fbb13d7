// --rate across all workers: one token bucket under a lock, and a transport
// that waits its turn before each request it sends.
#pragma once

#include <memory>
#include <mutex>

#include "deliver/token_bucket.h"
#include "deliver/transport.h"

namespace batchpipe {

class Pacer {
 public:
  explicit Pacer(Rate rate) : bucket_(rate.count, rate.per) {}

  /// Waits for a request's turn. The attempt's own clock (--timeout) is
  /// stopped meanwhile and started again at the end; the wait ends early,
  /// returning false, when `control` cancels the attempt or its grace
  /// deadline passes.
  bool wait_turn(AttemptControl& control);

 private:
  std::mutex mutex_;
  TokenBucket bucket_;
};

/// Sends each attempt through `inner` once the pacer allows it. Every request
/// counts, retries and sends to another URL included.
class PacedTransport : public Transport {
 public:
  PacedTransport(std::unique_ptr<Transport> inner, std::shared_ptr<Pacer> pacer)
      : inner_(std::move(inner)), pacer_(std::move(pacer)) {}
  AttemptResult attempt(const Batch& batch, const AttemptInfo& info, AttemptControl& control) override;
  uint64_t held_bytes() const override { return inner_->held_bytes(); }
  uint64_t would_hold(const Batch& batch) const override { return inner_->would_hold(batch); }

 private:
  std::unique_ptr<Transport> inner_;
  std::shared_ptr<Pacer> pacer_;
};

}  // namespace batchpipe
