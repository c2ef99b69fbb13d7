#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "batch/batcher.h"

using namespace batchpipe;
using namespace std::chrono_literals;

namespace {

TimePoint t0{};

std::vector<std::string> take_all(Batcher& b) {
  std::vector<std::string> out;
  while (b.has_closed()) out.push_back(b.take().bytes);
  return out;
}

}  // namespace

TEST_CASE("a batch closes when it holds --size records") {
  Batcher b({.records = 2, .bytes = 1000, .interval = 0s});
  REQUIRE(b.add("1", {0, 1}, t0));
  CHECK_FALSE(b.has_closed());
  REQUIRE(b.add("{\"a\":2}", {0, 2}, t0));
  REQUIRE(b.add("3", {0, 3}, t0));
  CHECK(take_all(b) == std::vector<std::string>{"[1,{\"a\":2}]\n"});
  b.flush();
  CHECK(take_all(b) == std::vector<std::string>{"[3]\n"});
}

TEST_CASE("batches are numbered and remember their line range") {
  Batcher b({.records = 2, .bytes = 1000, .interval = 0s});
  b.add("1", {0, 10}, t0);
  b.add("2", {0, 12}, t0);
  b.add("3", {0, 15}, t0);
  b.flush();
  Batch first = b.take();
  Batch second = b.take();
  CHECK(first.number == 1);
  CHECK(first.records == 2);
  CHECK(first.first.line == 10);
  CHECK(first.last.line == 12);
  CHECK(second.number == 2);
  CHECK(second.first.line == 15);
  CHECK(second.last.line == 15);
  CHECK(b.batches_closed() == 2);
}

TEST_CASE("a batch gives back each record byte-for-byte") {
  Batcher b({.records = 3, .bytes = 1000, .interval = 0s});
  b.add("{\"a\":[1,2]}", {0, 1}, t0);
  b.add("\"x,y\"", {0, 2}, t0);
  b.add("7", {1, 1}, t0);
  Batch batch = b.take();
  REQUIRE(batch.records == 3);
  CHECK(batch.record(0) == "{\"a\":[1,2]}");
  CHECK(batch.record(1) == "\"x,y\"");
  CHECK(batch.record(2) == "7");
  CHECK(batch.last.input == 1);
}

TEST_CASE("flush of an empty batcher makes no batch") {
  Batcher b({.records = 5, .bytes = 100, .interval = 1s});
  b.flush();
  CHECK_FALSE(b.has_closed());
  CHECK_FALSE(b.deadline());
}

TEST_CASE("the encoded batch never exceeds --max-bytes") {
  // "[" + "aaaa" + "," + "bbbb" + "]" + "\n" = 12 bytes
  SECTION("exactly at the limit stays together") {
    Batcher b({.records = 100, .bytes = 12, .interval = 0s});
    b.add("aaaa", {0, 1}, t0);
    b.add("bbbb", {0, 2}, t0);
    CHECK_FALSE(b.has_closed());
    b.flush();
    CHECK(take_all(b) == std::vector<std::string>{"[aaaa,bbbb]\n"});
  }
  SECTION("one byte over starts a new batch") {
    Batcher b({.records = 100, .bytes = 11, .interval = 0s});
    b.add("aaaa", {0, 1}, t0);
    b.add("bbbb", {0, 2}, t0);
    b.flush();
    CHECK(take_all(b) == std::vector<std::string>{"[aaaa]\n", "[bbbb]\n"});
  }
  SECTION("a record that fills a batch alone") {
    Batcher b({.records = 100, .bytes = 7, .interval = 0s});
    CHECK(b.max_record_size() == 4);
    CHECK(b.add("aaaa", {0, 1}, t0));
    CHECK_FALSE(b.add("aaaaa", {0, 2}, t0));
    b.flush();
    CHECK(take_all(b) == std::vector<std::string>{"[aaaa]\n"});
  }
}

TEST_CASE("every batch respects --max-bytes for all record sizes") {
  for (uint64_t limit = 4; limit < 40; ++limit) {
    Batcher b({.records = 7, .bytes = limit, .interval = 0s});
    uint64_t added = 0;
    for (size_t n = 1; n < 50; ++n) {
      std::string rec(1 + (n * 7) % 13, 'x');
      if (b.add(rec, {0, n}, t0)) ++added;
      else CHECK(rec.size() > limit - 3);
    }
    b.flush();
    uint64_t seen = 0;
    while (b.has_closed()) {
      Batch batch = b.take();
      CHECK(batch.bytes.size() <= limit);
      CHECK(batch.records <= 7);
      seen += batch.records;
    }
    CHECK(seen == added);
  }
}

TEST_CASE("--interval closes a batch when its oldest record is that old") {
  Batcher b({.records = 100, .bytes = 1000, .interval = 500ms});
  CHECK_FALSE(b.deadline());
  b.add("1", {0, 1}, t0);
  REQUIRE(b.deadline());
  CHECK(*b.deadline() == t0 + 500ms);
  b.add("2", {0, 2}, t0 + 400ms);  // a younger record does not move the deadline
  CHECK(*b.deadline() == t0 + 500ms);
  b.tick(t0 + 499ms);
  CHECK_FALSE(b.has_closed());
  b.tick(t0 + 500ms);
  CHECK(take_all(b) == std::vector<std::string>{"[1,2]\n"});
  CHECK_FALSE(b.deadline());
  b.add("3", {0, 3}, t0 + 900ms);
  CHECK(*b.deadline() == t0 + 1400ms);
}

TEST_CASE("an interval of zero never closes a batch by age") {
  Batcher b({.records = 100, .bytes = 1000, .interval = 0s});
  b.add("1", {0, 1}, t0);
  CHECK_FALSE(b.deadline());
  b.tick(t0 + 1000h);
  CHECK_FALSE(b.has_closed());
}

TEST_CASE("recycled buffers are reused without leaking old content") {
  Batcher b({.records = 1, .bytes = 1000, .interval = 0s});
  b.add("\"first\"", {0, 1}, t0);
  Batch one = b.take();
  b.recycle(std::move(one));
  b.add("2", {0, 2}, t0);
  b.add("3", {0, 3}, t0);
  CHECK(take_all(b) == std::vector<std::string>{"[2]\n", "[3]\n"});
}
