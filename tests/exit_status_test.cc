#include <catch2/catch.hpp>

#include "base/exit_status.h"

using namespace batchpipe;

TEST_CASE("the largest status wins, unless a signal ended the run") {
  CHECK(combine(ExitStatus::Success, ExitStatus::InvalidSkipped) == ExitStatus::InvalidSkipped);
  CHECK(combine(ExitStatus::InputUnreadable, ExitStatus::Undelivered) == ExitStatus::InputUnreadable);
  CHECK(combine(ExitStatus::InvalidSkipped, ExitStatus::Terminated) == ExitStatus::Terminated);
  CHECK(combine(ExitStatus::Interrupted, ExitStatus::InputUnreadable) == ExitStatus::Interrupted);
  CHECK(combine(ExitStatus::Interrupted, ExitStatus::Terminated) == ExitStatus::Interrupted);
}

TEST_CASE("SIGHUP's status is a signal's") {
  CHECK(is_signal(ExitStatus::Hangup));
  CHECK(static_cast<int>(ExitStatus::Hangup) == 129);
  CHECK(combine(ExitStatus::SystemError, ExitStatus::Hangup) == ExitStatus::Hangup);
  CHECK_FALSE(is_signal(ExitStatus::SystemError));
}
