#include "deliver/pacer.h"

#include <poll.h>

#include <cerrno>

namespace batchpipe {

bool Pacer::wait_turn(AttemptControl& control) {
  control.pause();
  TimePoint until;
  {
    std::lock_guard lock(mutex_);
    TimePoint now = Clock::now();
    until = now + bucket_.take(now);
  }
  for (;;) {
    if (control.cancelled()) return false;
    std::optional<TimePoint> grace = control.deadline();
    TimePoint now = Clock::now();
    if (grace && now >= *grace) return false;
    if (now >= until) break;
    pollfd wake{control.wake_fd(), POLLIN, 0};
    int timeout = poll_timeout(grace ? std::min(*grace, until) : until);
    if (::poll(&wake, 1, timeout) > 0) control.check();
  }
  control.restart();
  return true;
}

AttemptResult PacedTransport::attempt(const Batch& batch, const AttemptInfo& info, AttemptControl& control) {
  if (!pacer_->wait_turn(control)) {
    if (control.cancelled()) return {Outcome::Cancelled, "not sent: batchpipe is shutting down", std::nullopt};
    return {Outcome::Retryable, "not sent: " + control.deadline_reason(), std::nullopt};
  }
  return inner_->attempt(batch, info, control);
}

}  // namespace batchpipe
