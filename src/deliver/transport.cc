#include "deliver/transport.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/startup_error.h"

namespace batchpipe {
namespace {

int64_t to_ns(TimePoint t) { return t.time_since_epoch().count(); }

}  // namespace

AttemptControl::AttemptControl() : wake_fd_(checked_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "an eventfd")) {}

AttemptControl::~AttemptControl() { ::close(wake_fd_); }

void AttemptControl::check() {
  uint64_t count;
  (void)!::read(wake_fd_, &count, sizeof count);
}

std::optional<TimePoint> AttemptControl::deadline() const {
  int64_t a = attempt_deadline_, g = grace_deadline_;
  int64_t d = a == 0 ? g : g == 0 ? a : std::min(a, g);
  if (d == 0) return std::nullopt;
  return TimePoint(TimePoint::duration(d));
}

std::string AttemptControl::deadline_reason() const {
  int64_t g = grace_deadline_, a = attempt_deadline_;
  if (g != 0 && (a == 0 || g <= a)) return "cut short at the end of the shutdown grace";
  return fmt::format("timed out after {}", format_duration(timeout_));
}

void AttemptControl::begin(Duration timeout) {
  timeout_ = timeout;
  attempt_deadline_ = timeout == Duration::zero() ? 0 : to_ns(Clock::now() + timeout);
}

void AttemptControl::limit(TimePoint when) {
  grace_deadline_ = to_ns(when);
  wake();
}

void AttemptControl::cancel() {
  cancelled_ = true;
  wake();
}

void AttemptControl::wake() {
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

}  // namespace batchpipe
