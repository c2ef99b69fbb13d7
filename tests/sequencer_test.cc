#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "deliver/sequencer.h"

using namespace batchpipe;

TEST_CASE("results leave in batch order whatever order they arrive in", "[sequencer]") {
  std::mt19937_64 rng(2026);
  for (int round = 0; round < 200; ++round) {
    int n = 1 + static_cast<int>(rng() % 40);
    std::vector<uint64_t> arrival(n);
    for (int i = 0; i < n; ++i) arrival[i] = static_cast<uint64_t>(i + 1);
    std::shuffle(arrival.begin(), arrival.end(), rng);
    Sequencer<uint64_t> seq;
    std::vector<uint64_t> committed;
    for (uint64_t number : arrival) {
      seq.put(number, number * 10);
      while (auto r = seq.pop()) committed.push_back(*r);
      // Nothing leaves before every earlier batch has arrived.
      for (uint64_t c : committed) CHECK(c / 10 < seq.next());
    }
    REQUIRE(committed.size() == static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) CHECK(committed[i] == static_cast<uint64_t>(i + 1) * 10);
    CHECK(seq.waiting() == 0);
  }
}

TEST_CASE("a result ahead of its turn waits", "[sequencer]") {
  Sequencer<int> seq;
  seq.put(2, 20);
  CHECK_FALSE(seq.pop());
  CHECK(seq.waiting() == 1);
  seq.put(1, 10);
  CHECK(seq.pop() == 10);
  CHECK(seq.pop() == 20);
  CHECK_FALSE(seq.pop());
  CHECK(seq.next() == 3);
}
