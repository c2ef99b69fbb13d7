#include "deliver/adaptive_transport.h"

namespace batchpipe {
namespace {

/// How often a waiting attempt looks whether it was cancelled: a freed slot
/// wakes it at once, a cancellation within this.
constexpr auto kCancelCheck = std::chrono::milliseconds(20);

}  // namespace

ConcurrencyGate::ConcurrencyGate(ConcurrencyOptions options, Metrics& metrics)
    : controller_(options, Clock::now()), metrics_(metrics) {
  metrics_.concurrency_limit.set(controller_.limit());
}

bool ConcurrencyGate::enter(AttemptControl& control, bool& saturated) {
  control.pause();
  std::unique_lock lock(mutex_);
  saturated = running_ >= controller_.limit();
  while (running_ >= controller_.limit()) {
    if (control.cancelled()) return false;
    std::optional<TimePoint> grace = control.deadline();
    TimePoint now = Clock::now();
    if (grace && now >= *grace) return false;
    TimePoint until = now + kCancelCheck;
    freed_.wait_until(lock, grace ? std::min(*grace, until) : until);
  }
  ++running_;
  if (running_ == controller_.limit()) saturated = true;
  lock.unlock();
  control.restart();
  return true;
}

void ConcurrencyGate::leave(Duration latency, AttemptSignal signal, bool saturated) {
  bool raised;
  {
    std::lock_guard lock(mutex_);
    --running_;
    uint32_t before = controller_.limit();
    controller_.record(Clock::now(), latency, signal, saturated);
    raised = controller_.limit() > before;
    metrics_.concurrency_limit.set(controller_.limit());
  }
  // One slot freed wakes one waiter (not every worker, on a machine of few cores); a raise, all.
  if (raised)
    freed_.notify_all();
  else
    freed_.notify_one();
}

AttemptSignal signal_of(const AttemptResult& result, bool timed_out) {
  if (result.outcome == Outcome::Delivered) return AttemptSignal::Success;
  if (result.outcome == Outcome::Cancelled) return AttemptSignal::Other;
  if (result.status == 429 || result.status == 503 || timed_out) return AttemptSignal::Overload;
  return AttemptSignal::Other;
}

AttemptResult AdaptiveTransport::attempt(const Batch& batch, const AttemptInfo& info, AttemptControl& control) {
  bool saturated = false;
  if (!gate_->enter(control, saturated)) {
    if (control.cancelled()) return {Outcome::Cancelled, "not sent: batchpipe is shutting down", std::nullopt};
    return {Outcome::Retryable, "not sent: " + control.deadline_reason(), std::nullopt};
  }
  TimePoint start = Clock::now();
  AttemptResult result = inner_->attempt(batch, info, control);
  TimePoint end = Clock::now();
  std::optional<TimePoint> deadline = control.deadline();
  bool timed_out = result.outcome != Outcome::Delivered && deadline && end >= *deadline && !control.cancelled();
  gate_->leave(end - start, signal_of(result, timed_out), saturated);
  return result;
}

}  // namespace batchpipe
