#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "batch/keyed_batcher.h"

using namespace batchpipe;
using namespace std::chrono_literals;

namespace {

TimePoint t0{};

std::shared_ptr<const Route> route(std::string key) {
  auto r = std::make_shared<Route>();
  r->key = std::move(key);
  return r;
}

/// Each closed batch as "KEY:BODY".
std::vector<std::string> take_all(KeyedBatcher& b) {
  std::vector<std::string> out;
  while (b.has_closed()) {
    Batch batch = b.take();
    out.push_back((batch.route ? batch.route->key : std::string()) + ":" + batch.bytes);
  }
  return out;
}

}  // namespace

TEST_CASE("records of different keys never share a batch; each key closes under --size") {
  KeyedBatcher b({.records = 2, .bytes = 1000, .interval = 0s});
  auto a = route("a"), c = route("c");
  REQUIRE(b.add(a, "1", {0, 1}, t0));
  REQUIRE(b.add(c, "2", {0, 2}, t0));
  REQUIRE(b.add(a, "3", {0, 3}, t0));
  CHECK(b.open_keys() == 1);
  CHECK(take_all(b) == std::vector<std::string>{"a:[1,3]\n"});
  REQUIRE(b.add(c, "4", {0, 4}, t0));
  REQUIRE(b.add(a, "5", {0, 5}, t0));
  b.flush();
  CHECK(take_all(b) == std::vector<std::string>{"c:[2,4]\n", "a:[5]\n"});
  CHECK(b.open_keys() == 0);
  CHECK(b.empty());
}

TEST_CASE("batches are numbered as they close") {
  KeyedBatcher b({.records = 2, .bytes = 1000, .interval = 0s});
  auto a = route("a"), c = route("c");
  b.add(c, "1", {0, 1}, t0);
  b.add(a, "2", {0, 2}, t0);
  b.add(a, "3", {0, 3}, t0);
  b.flush();
  Batch first = b.take(), second = b.take();
  CHECK(first.number == 1);
  CHECK(first.route->key == "a");
  CHECK(first.first_seq == 1);
  CHECK(second.number == 2);
  CHECK(second.route->key == "c");
  CHECK(second.first_seq == 0);
}

TEST_CASE("each key's batch closes by --max-bytes on its own") {
  KeyedBatcher b({.records = 100, .bytes = 8, .interval = 0s});  // "[1,2]\n" is 6
  auto a = route("a"), c = route("c");
  b.add(a, "11", {0, 1}, t0);
  b.add(c, "22", {0, 2}, t0);
  b.add(a, "33", {0, 3}, t0);  // "[11,33]\n" is 8: fits
  CHECK_FALSE(b.has_closed());
  b.add(a, "4", {0, 4}, t0);
  CHECK(take_all(b) == std::vector<std::string>{"a:[11,33]\n"});
  CHECK_FALSE(b.add(a, "123456789", {0, 5}, t0));  // larger than any batch
}

TEST_CASE("the interval counts from each key's first record; the deadline is the oldest's") {
  KeyedBatcher b({.records = 100, .bytes = 1000, .interval = 10s});
  auto a = route("a"), c = route("c");
  CHECK_FALSE(b.deadline());
  b.add(a, "1", {0, 1}, t0);
  b.add(c, "2", {0, 2}, t0 + 5s);
  CHECK(b.deadline() == t0 + 10s);
  b.tick(t0 + 9s);
  CHECK_FALSE(b.has_closed());
  b.tick(t0 + 10s);
  CHECK(take_all(b) == std::vector<std::string>{"a:[1]\n"});
  CHECK(b.deadline() == t0 + 15s);
  b.tick(t0 + 15s);
  CHECK(take_all(b) == std::vector<std::string>{"c:[2]\n"});
  CHECK_FALSE(b.deadline());
}

TEST_CASE("a new key beyond --max-keys closes the oldest open batch") {
  KeyedBatcher b({.records = 100, .bytes = 1000, .interval = 0s}, BodyFormat::plain_array(), 2);
  auto a = route("a"), c = route("c"), d = route("d");
  b.add(a, "1", {0, 1}, t0);
  b.add(c, "2", {0, 2}, t0);
  b.add(a, "3", {0, 3}, t0);  // a stays the oldest open: it opened first
  CHECK_FALSE(b.has_closed());
  b.add(d, "4", {0, 4}, t0);
  CHECK(b.open_keys() == 2);
  CHECK(take_all(b) == std::vector<std::string>{"a:[1,3]\n"});
  b.add(a, "5", {0, 5}, t0);
  CHECK(take_all(b) == std::vector<std::string>{"c:[2]\n"});
}

TEST_CASE("a million distinct keys under --max-keys hold at most that many batches open") {
  KeyedBatcher b({.records = 100, .bytes = 1 << 16, .interval = 0s}, BodyFormat::plain_array(), 100);
  uint64_t most_memory = 0;
  for (int i = 0; i < 1000000; ++i) {
    auto r = route(std::to_string(i));
    REQUIRE(b.add(r, "1", {0, static_cast<uint64_t>(i)}, t0));
    CHECK(b.open_keys() <= 100);
    while (b.has_closed()) b.recycle(b.take());
    most_memory = std::max(most_memory, b.memory());
  }
  CHECK(b.open_keys() == 100);
  CHECK(most_memory < 100 * 2 * 4096 + kSpareBatches * 2 * 4096);
}

TEST_CASE("the oldest record still held: open batches and closed ones not yet taken") {
  KeyedBatcher b({.records = 2, .bytes = 1000, .interval = 0s});
  auto a = route("a"), c = route("c");
  CHECK(b.oldest_held_seq() == 0);
  b.add(a, "0", {0, 1}, t0);
  b.add(c, "1", {0, 2}, t0);
  b.add(c, "2", {0, 3}, t0);  // c closes
  CHECK(b.oldest_open_seq() == 0);
  CHECK(b.oldest_held_seq() == 0);
  b.add(a, "3", {0, 4}, t0);  // a closes after c: batch 2
  CHECK(b.oldest_open_seq() == 4);
  CHECK(b.oldest_held_seq() == 0);
  Batch first = b.take();  // c: records 1 and 2
  CHECK(first.first_seq == 1);
  CHECK(b.oldest_held_seq() == 0);
  Batch second = b.take();  // a: records 0 and 3
  CHECK(b.oldest_held_seq() == 4);
}

TEST_CASE("within a key, records keep input order whatever the mix") {
  static const BodyFormat ndjson = BodyFormat::ndjson();  // the batcher keeps a reference
  KeyedBatcher b({.records = 7, .bytes = 1 << 16, .interval = 0s}, ndjson, 5);
  std::vector<std::shared_ptr<const Route>> routes;
  for (int k = 0; k < 9; ++k) routes.push_back(route(std::to_string(k)));
  std::mt19937 random(42);
  std::map<std::string, std::vector<int>> sent, got;
  for (int i = 0; i < 5000; ++i) {
    int k = static_cast<int>(random() % 9);
    sent[routes[k]->key].push_back(i);
    b.add(routes[k], std::to_string(i), {0, static_cast<uint64_t>(i)}, t0);
    if (i % 13 == 0) b.tick(t0);
  }
  b.flush();
  while (b.has_closed()) {
    Batch batch = b.take();
    for (size_t i = 0; i < batch.records; ++i) got[batch.route->key].push_back(std::stoi(std::string(batch.record(i))));
  }
  CHECK(got == sent);
}

TEST_CASE("the empty key alone batches as the one-key Batcher does") {
  KeyedBatcher b({.records = 2, .bytes = 1000, .interval = 0s});
  b.add(nullptr, "1", {0, 1}, t0);
  b.add(nullptr, "2", {0, 2}, t0);
  b.add(nullptr, "3", {0, 3}, t0);
  b.flush();
  CHECK(take_all(b) == std::vector<std::string>{":[1,2]\n", ":[3]\n"});
}
