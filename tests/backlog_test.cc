#include <catch2/catch.hpp>

#include "batch/backlog.h"
#include "batch/batcher.h"

using namespace batchpipe;
using namespace std::chrono_literals;

TEST_CASE("a closed batch credits exactly what its records were charged", "[backlog]") {
  for (uint64_t size : {1u, 2u, 7u, 100u}) {
    Batcher b({.records = size, .bytes = 1 << 20, .interval = 0s});
    Backlog budget(1 << 20);
    std::vector<std::string> records = {"1", "{}", "\"abc\"", "[1,2,3]", "{\"k\":\"v\"}", "12345678"};
    for (int round = 0; round < 50; ++round) {
      const std::string& r = records[round % records.size()];
      REQUIRE(b.add(r, {0, 1}, TimePoint{}));
      budget.charge(record_cost(r.size()), 1);
    }
    b.flush();
    while (b.has_closed()) {
      Batch batch = b.take();
      budget.credit(batch_cost(batch), batch.records);
    }
    CHECK(budget.used() == 0);
    CHECK(budget.records() == 0);
  }
}

TEST_CASE("the budget is full at its figure and fits what stays within it", "[backlog]") {
  Backlog budget(100);
  CHECK(budget.fits(100));
  CHECK_FALSE(budget.fits(101));
  budget.charge(60, 3);
  CHECK_FALSE(budget.full());
  CHECK(budget.fits(40));
  CHECK_FALSE(budget.fits(41));
  budget.charge(40, 1);
  CHECK(budget.full());
  budget.credit(30, 1);
  CHECK_FALSE(budget.full());
  CHECK(budget.used() == 70);
  CHECK(budget.records() == 3);
  budget.credit(1000, 1000);  // never below zero
  CHECK(budget.used() == 0);
}
