// --permanent-status, --retryable-status and the fail-fast rule.
#include <catch2/catch.hpp>

#include "deliver/fail_fast.h"
#include "deliver/status_rules.h"

using namespace batchpipe;

namespace {

StatusList list(const char* text, int lo = 1, int hi = 255) {
  std::string error;
  auto l = StatusList::parse(text, lo, hi, error);
  INFO(error);
  REQUIRE(l);
  return *l;
}

std::string refused(const char* text, int lo = 1, int hi = 255) {
  std::string error;
  CHECK_FALSE(StatusList::parse(text, lo, hi, error));
  return error;
}

}  // namespace

TEST_CASE("status lists: single statuses and ranges") {
  StatusList l = list("3,64-78,100");
  for (int s = 0; s <= 256; ++s) {
    CAPTURE(s);
    CHECK(l.contains(s) == (s == 3 || (s >= 64 && s <= 78) || s == 100));
  }
  CHECK(l.touches(70, 90));
  CHECK_FALSE(l.touches(4, 63));
  CHECK(list("5-5").contains(5));
}

TEST_CASE("status lists: what is refused") {
  CHECK(refused("") == "expected statuses such as 3 or 409,500-502, got ''");
  CHECK(refused("3,") == "expected statuses such as 3 or 409,500-502, got '3,'");
  CHECK(refused("x") == "expected statuses such as 3 or 409,500-502, got 'x'");
  CHECK(refused("-3") == "expected statuses such as 3 or 409,500-502, got '-3'");
  CHECK(refused("3-") == "expected statuses such as 3 or 409,500-502, got '3-'");
  CHECK(refused("+3") == "expected statuses such as 3 or 409,500-502, got '+3'");
  CHECK(refused("9-4") == "'9-4' is not a range: 9 comes after 4");
  CHECK(refused("0") == "0 is not a status from 1 to 255");
  CHECK(refused("250-256") == "256 is not a status from 1 to 255");
  CHECK(refused("99", 100, 599) == "99 is not a status from 100 to 599");
  CHECK(refused("99999999999999") == "expected statuses such as 3 or 409,500-502, got '99999999999999'");
}

TEST_CASE("overlap between two lists") {
  CHECK(list("3,10-20").overlap(list("15-30")) == 15);
  CHECK(list("3,10-20").overlap(list("1-2,21")) == std::nullopt);
  CHECK(list("10-20,3").overlap(list("1-5,12")) == 3);
}

TEST_CASE("the user's word replaces the built-in rule") {
  StatusRules rules{list("3", 1, 599), list("404,500-504", 1, 599)};
  CHECK(rules.lookup(3) == Outcome::Permanent);
  CHECK(rules.lookup(404) == Outcome::Retryable);
  CHECK(rules.lookup(502) == Outcome::Retryable);
  CHECK(rules.lookup(1) == std::nullopt);
  CHECK(rules.lookup(400) == std::nullopt);
  CHECK(StatusRules{}.lookup(500) == std::nullopt);
}

TEST_CASE("what stops the run") {
  for (bool before : {false, true}) {
    CHECK_FALSE(stops_the_run(Shared::No, before));
    CHECK(stops_the_run(Shared::Always, before));
    CHECK(stops_the_run(Shared::UntilDelivered, before) == !before);
  }
}
