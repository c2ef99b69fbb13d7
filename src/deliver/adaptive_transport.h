// --parallel auto: every worker's transport goes through one shared gate that
// lets at most the controller's limit of attempts run at once, and tells the
// controller how each one ended (concurrency_controller.h has the rule).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>

#include "deliver/concurrency_controller.h"
#include "deliver/transport.h"
#include "report/metrics.h"

namespace batchpipe {

/// The controller under a lock, and the slots it allows. One for the run.
class ConcurrencyGate {
 public:
  /// Sets metrics.concurrency_limit, and keeps it current.
  ConcurrencyGate(ConcurrencyOptions options, Metrics& metrics);

  /// Waits for a slot. The attempt's own clock (--timeout) is stopped
  /// meanwhile and started again at the end; the wait ends early, returning
  /// false, when `control` cancels the attempt or its grace deadline passes.
  /// `saturated` says whether every slot was taken when it came.
  bool enter(AttemptControl& control, bool& saturated);
  /// Gives the slot back, with how the attempt went.
  void leave(Duration latency, AttemptSignal signal, bool saturated);

 private:
  std::mutex mutex_;
  std::condition_variable freed_;
  ConcurrencyController controller_;
  uint32_t running_ = 0;
  Metrics& metrics_;
};

/// What an attempt's result says about load: 429, 503 and timeouts are
/// overloads; a delivery is a latency sample; the rest says nothing.
AttemptSignal signal_of(const AttemptResult& result, bool timed_out);

/// Sends each attempt through `inner` once the gate lets it, and reports it.
class AdaptiveTransport : public Transport {
 public:
  AdaptiveTransport(std::unique_ptr<Transport> inner, std::shared_ptr<ConcurrencyGate> gate)
      : inner_(std::move(inner)), gate_(std::move(gate)) {}
  AttemptResult attempt(const Batch& batch, const AttemptInfo& info, AttemptControl& control) override;
  uint64_t held_bytes() const override { return inner_->held_bytes(); }
  uint64_t would_hold(const Batch& batch) const override { return inner_->would_hold(batch); }

 private:
  std::unique_ptr<Transport> inner_;
  std::shared_ptr<ConcurrencyGate> gate_;
};

}  // namespace batchpipe
