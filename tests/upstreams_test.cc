// Several --post URLs: round-robin, cool-downs and recovery, on a fake clock.
#include <catch2/catch.hpp>

#include <algorithm>

#include "deliver/upstreams.h"

using namespace batchpipe;
using namespace std::chrono_literals;

namespace {

const std::vector<bool> kNone(3, false);

}  // namespace

TEST_CASE("healthy URLs take turns") {
  Upstreams u(3, 1s, 30s);
  TimePoint t{};
  std::vector<size_t> got;
  for (int i = 0; i < 7; ++i) got.push_back(*u.pick(t, kNone));
  CHECK(got == std::vector<size_t>{0, 1, 2, 0, 1, 2, 0});
}

TEST_CASE("a failed URL is put aside, its cool-down doubling up to the cap, and comes back") {
  Upstreams u(3, 1s, 5s);
  TimePoint t{};
  CHECK(u.failed(1, t) == 1s);
  for (int i = 0; i < 4; ++i) CHECK(*u.pick(t, kNone) != 1);
  CHECK_FALSE(u.healthy(1, t + 999ms));
  CHECK(u.healthy(1, t + 1s));
  CHECK(u.failed(1, t) == 2s);
  CHECK(u.failed(1, t) == 4s);
  CHECK(u.failed(1, t) == 5s);
  CHECK(u.failed(1, t) == 5s);
  CHECK(u.failures(1) == 5);
  // Tried again once its cool-down is over; an answer makes it healthy for good.
  t += 5s;
  std::vector<size_t> got;
  for (int i = 0; i < 3; ++i) got.push_back(*u.pick(t, kNone));
  CHECK(std::count(got.begin(), got.end(), 1) == 1);
  CHECK(u.answered(1));
  CHECK_FALSE(u.answered(1));
  CHECK(u.failures(1) == 0);
  CHECK(u.failed(1, t) == 1s);  // the doubling starts over
}

TEST_CASE("Retry-After lengthens a cool-down, within the cap") {
  Upstreams u(2, 1s, 30s);
  TimePoint t{};
  CHECK(u.failed(0, t, 10s) == 10s);
  CHECK(u.failed(1, t, 100ms) == 1s);
  CHECK(u.failed(1, t, 1h) == 30s);
}

TEST_CASE("a batch that failed on one URL goes to another healthy one, never twice to the same") {
  Upstreams u(3, 1s, 30s);
  TimePoint t{};
  std::vector<bool> tried(3, false);
  size_t first = *u.pick(t, tried);
  tried[first] = true;
  u.failed(first, t);
  REQUIRE(u.any_healthy(t, tried));
  size_t second = *u.pick(t, tried);
  CHECK(second != first);
  tried[second] = true;
  u.failed(second, t);
  size_t third = *u.pick(t, tried);
  CHECK(third != first);
  CHECK(third != second);
  tried[third] = true;
  CHECK_FALSE(u.any_healthy(t, tried));
  CHECK_FALSE(u.pick(t, tried));
}

TEST_CASE("with every URL put aside, the one back soonest is tried") {
  Upstreams u(3, 1s, 30s);
  TimePoint t{};
  u.failed(0, t);
  u.failed(0, t);  // 2s
  u.failed(1, t);  // 1s
  u.failed(2, t);
  u.failed(2, t);
  u.failed(2, t);  // 4s
  CHECK_FALSE(u.any_healthy(t, kNone));
  CHECK(u.pick(t, kNone) == 1u);
  std::vector<bool> tried{false, true, false};
  CHECK(u.pick(t, tried) == 0u);
}

TEST_CASE("round-robin skips the put-aside URL without losing its place") {
  Upstreams u(3, 1s, 30s);
  TimePoint t{};
  u.failed(0, t);
  std::vector<size_t> got;
  for (int i = 0; i < 4; ++i) got.push_back(*u.pick(t, kNone));
  CHECK(got == std::vector<size_t>{1, 2, 1, 2});
  t += 1s;
  got.clear();
  for (int i = 0; i < 3; ++i) got.push_back(*u.pick(t, kNone));
  CHECK(got == std::vector<size_t>{0, 1, 2});
}
