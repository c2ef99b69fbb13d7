#include <catch2/catch.hpp>

#include "input/rotate_wait.h"

using namespace batchpipe;
using namespace std::chrono_literals;

namespace {
const TimePoint t0 = TimePoint{} + 1000s;
const Duration wait = 5s;
}  // namespace

TEST_CASE("decide_leave: a renamed file stays until quiet for the wait and the new file is written", "[rotate_wait]") {
  OldFile f{.quiet_since = t0};
  // The new file not written yet: the writer may still be on the old one, however long.
  CHECK_FALSE(decide_leave(f, wait, t0).leave);
  CHECK_FALSE(decide_leave(f, wait, t0 + 1h).leave);
  CHECK_FALSE(decide_leave(f, wait, t0 + 1h).look_again);  // only news changes that
  f.new_written = true;
  LeaveDecision d = decide_leave(f, wait, t0 + 4999ms);
  CHECK_FALSE(d.leave);
  REQUIRE(d.look_again);
  CHECK(*d.look_again == t0 + 5s);
  CHECK(decide_leave(f, wait, t0 + 5s).leave);
  // It grew again (the writer had not reopened yet): the wait starts over.
  f.quiet_since = t0 + 4s;
  CHECK_FALSE(decide_leave(f, wait, t0 + 5s).leave);
  CHECK(decide_leave(f, wait, t0 + 9s).leave);
}

TEST_CASE("decide_leave: a zero wait leaves a renamed file as soon as the new one is written", "[rotate_wait]") {
  OldFile f{.quiet_since = t0, .new_written = true};
  CHECK(decide_leave(f, Duration::zero(), t0).leave);
  f.new_written = false;
  CHECK_FALSE(decide_leave(f, Duration::zero(), t0).leave);
}

TEST_CASE("decide_leave: a deleted file is closed once quiet a second, at the latest after the wait", "[rotate_wait]") {
  OldFile f{.quiet_since = t0, .deleted = true, .deleted_since = t0};
  CHECK_FALSE(decide_leave(f, wait, t0 + 999ms).leave);
  CHECK(*decide_leave(f, wait, t0).look_again == t0 + 1s);
  CHECK(decide_leave(f, wait, t0 + 1s).leave);
  // Quiet long before it was deleted: closed at once.
  f.quiet_since = t0 - 1min;
  CHECK(decide_leave(f, wait, t0).leave);
  // Still written (by a writer holding it open): closed after the wait all the same.
  f.quiet_since = t0 + 4900ms;
  CHECK_FALSE(decide_leave(f, wait, t0 + 4950ms).leave);
  CHECK(*decide_leave(f, wait, t0 + 4950ms).look_again == t0 + 5s);
  CHECK(decide_leave(f, wait, t0 + 5s).leave);
  // Whether or not the name has a new file.
  f.new_written = true;
  CHECK_FALSE(decide_leave(f, wait, t0 + 4950ms).leave);
  // A wait shorter than a second bounds the quiet too.
  OldFile g{.quiet_since = t0, .deleted = true, .deleted_since = t0};
  CHECK(decide_leave(g, 200ms, t0 + 200ms).leave);
  CHECK_FALSE(decide_leave(g, 200ms, t0 + 199ms).leave);
}
