#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "batch/keyed_batcher.h"

using namespace batchpipe;
using namespace std::chrono_literals;

// The rules of one batch (a null route: the empty key, as without routing)
// first, then what keys add.

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

/// Each closed batch's body.
std::vector<std::string> bodies(KeyedBatcher& b) {
  std::vector<std::string> out;
  while (b.has_closed()) out.push_back(b.take().bytes);
  return out;
}

}  // namespace

TEST_CASE("a batch closes when it holds --size records") {
  KeyedBatcher b({.records = 2, .bytes = 1000, .interval = 0s});
  REQUIRE(b.add(nullptr, "1", {0, 1}, t0));
  CHECK_FALSE(b.has_closed());
  REQUIRE(b.add(nullptr, "{\"a\":2}", {0, 2}, t0));
  REQUIRE(b.add(nullptr, "3", {0, 3}, t0));
  CHECK(take_all(b) == std::vector<std::string>{":[1,{\"a\":2}]\n"});
  b.flush();
  CHECK(take_all(b) == std::vector<std::string>{":[3]\n"});
  CHECK(b.empty());
}

TEST_CASE("batches are numbered and remember their line range") {
  KeyedBatcher b({.records = 2, .bytes = 1000, .interval = 0s});
  b.add(nullptr, "1", {0, 10}, t0);
  b.add(nullptr, "2", {0, 12}, t0);
  b.add(nullptr, "3", {0, 15}, t0);
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

TEST_CASE("each record's own line: kept when asked, else only when the batch's lines are consecutive") {
  KeyedBatcher plain({.records = 3, .bytes = 1000, .interval = 0s});
  plain.add(nullptr, "1", {0, 10}, t0);
  plain.add(nullptr, "2", {0, 11}, t0);
  plain.add(nullptr, "3", {0, 12}, t0);  // 10, 11, 12: consecutive
  plain.add(nullptr, "4", {0, 13}, t0);
  plain.add(nullptr, "5", {0, 15}, t0);  // a blank line 14 between
  plain.add(nullptr, "6", {1, 1}, t0);
  plain.flush();
  Batch consecutive = plain.take(), gapped = plain.take();
  CHECK(consecutive.at.empty());
  CHECK(consecutive.where(2)->line == 12);
  CHECK_FALSE(gapped.where(0));
  CHECK_FALSE(gapped.where(2));
  CHECK_FALSE(part_of(consecutive, {2}).where(0));  // a part: its batch's range says nothing

  KeyedBatcher kept({.records = 3, .bytes = 1000, .interval = 0s});
  kept.keep_lines();
  kept.add(nullptr, "4", {0, 13}, t0);
  kept.add(nullptr, "5", {0, 15}, t0);
  kept.add(nullptr, "6", {1, 1}, t0);
  kept.flush();
  Batch b = kept.take();
  REQUIRE(b.at.size() == 3);
  CHECK(b.where(1)->line == 15);
  CHECK(b.where(2)->input == 1);
  CHECK(b.where(2)->line == 1);
  Batch part = part_of(b, {1, 2});
  CHECK(part.where(0)->line == 15);
  CHECK(part.where(1)->input == 1);
  // Reused buffers start empty.
  kept.recycle(std::move(b));
  kept.add(nullptr, "7", {1, 9}, t0);
  kept.flush();
  Batch again = kept.take();
  REQUIRE(again.at.size() == 1);
  CHECK(again.where(0)->line == 9);
}

TEST_CASE("a batch gives back each record byte-for-byte") {
  KeyedBatcher b({.records = 3, .bytes = 1000, .interval = 0s});
  b.add(nullptr, "{\"a\":[1,2]}", {0, 1}, t0);
  b.add(nullptr, "\"x,y\"", {0, 2}, t0);
  b.add(nullptr, "7", {1, 1}, t0);
  Batch batch = b.take();
  REQUIRE(batch.records == 3);
  CHECK(batch.record(0) == "{\"a\":[1,2]}");
  CHECK(batch.record(1) == "\"x,y\"");
  CHECK(batch.record(2) == "7");
  CHECK(batch.last.input == 1);
}

TEST_CASE("flush of an empty batcher makes no batch") {
  KeyedBatcher b({.records = 5, .bytes = 100, .interval = 1s});
  b.flush();
  CHECK_FALSE(b.has_closed());
  CHECK_FALSE(b.deadline());
  CHECK(b.empty());
}

TEST_CASE("the encoded batch never exceeds --max-bytes") {
  // "[" + "aaaa" + "," + "bbbb" + "]" + "\n" = 12 bytes
  SECTION("exactly at the limit stays together") {
    KeyedBatcher b({.records = 100, .bytes = 12, .interval = 0s});
    b.add(nullptr, "aaaa", {0, 1}, t0);
    b.add(nullptr, "bbbb", {0, 2}, t0);
    CHECK_FALSE(b.has_closed());
    b.flush();
    CHECK(bodies(b) == std::vector<std::string>{"[aaaa,bbbb]\n"});
  }
  SECTION("one byte over starts a new batch") {
    KeyedBatcher b({.records = 100, .bytes = 11, .interval = 0s});
    b.add(nullptr, "aaaa", {0, 1}, t0);
    b.add(nullptr, "bbbb", {0, 2}, t0);
    b.flush();
    CHECK(bodies(b) == std::vector<std::string>{"[aaaa]\n", "[bbbb]\n"});
  }
  SECTION("a record that fills a batch alone") {
    KeyedBatcher b({.records = 100, .bytes = 7, .interval = 0s});
    CHECK(BodyFormat::plain_array().max_record_size(7) == 4);
    CHECK(b.add(nullptr, "aaaa", {0, 1}, t0));
    CHECK_FALSE(b.add(nullptr, "aaaaa", {0, 2}, t0));  // refused, changing nothing
    CHECK(b.added() == 1);
    b.flush();
    CHECK(bodies(b) == std::vector<std::string>{"[aaaa]\n"});
  }
}

TEST_CASE("every batch respects --max-bytes for all record sizes") {
  for (uint64_t limit = 4; limit < 40; ++limit) {
    KeyedBatcher b({.records = 7, .bytes = limit, .interval = 0s});
    uint64_t added = 0;
    for (size_t n = 1; n < 50; ++n) {
      std::string rec(1 + (n * 7) % 13, 'x');
      if (b.add(nullptr, rec, {0, n}, t0)) ++added;
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
  KeyedBatcher b({.records = 100, .bytes = 1000, .interval = 500ms});
  CHECK_FALSE(b.deadline());
  b.add(nullptr, "1", {0, 1}, t0);
  REQUIRE(b.deadline());
  CHECK(*b.deadline() == t0 + 500ms);
  b.add(nullptr, "2", {0, 2}, t0 + 400ms);  // a younger record does not move the deadline
  CHECK(*b.deadline() == t0 + 500ms);
  b.tick(t0 + 499ms);
  CHECK_FALSE(b.has_closed());
  b.tick(t0 + 500ms);
  CHECK(bodies(b) == std::vector<std::string>{"[1,2]\n"});
  CHECK_FALSE(b.deadline());
  b.add(nullptr, "3", {0, 3}, t0 + 900ms);
  CHECK(*b.deadline() == t0 + 1400ms);
}

TEST_CASE("an interval of zero never closes a batch by age") {
  KeyedBatcher b({.records = 100, .bytes = 1000, .interval = 0s});
  b.add(nullptr, "1", {0, 1}, t0);
  CHECK_FALSE(b.deadline());
  b.tick(t0 + 1000h);
  CHECK_FALSE(b.has_closed());
}

TEST_CASE("recycled buffers are reused without leaking old content") {
  KeyedBatcher b({.records = 1, .bytes = 1000, .interval = 0s});
  b.add(nullptr, "\"first\"", {0, 1}, t0);
  Batch one = b.take();
  b.recycle(std::move(one));
  b.add(nullptr, "2", {0, 2}, t0);
  b.add(nullptr, "3", {0, 3}, t0);
  CHECK(bodies(b) == std::vector<std::string>{"[2]\n", "[3]\n"});
}

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


TEST_CASE("a per-record action line goes before its record; parts and records keep it") {
  BodyFormat format = BodyFormat::bulk_per_record(R"({"index":{"_index":"{.s}"}})");
  KeyedBatcher b({.records = 10, .bytes = 1000, .interval = 0s}, format);
  REQUIRE(b.add(nullptr, R"({"s":"a"})", {0, 1}, t0, nullptr, R"({"index":{"_index":"a"}})"));
  REQUIRE(b.add(nullptr, R"({"s":"bb"})", {0, 2, 20}, t0, nullptr, R"({"index":{"_index":"bb","_id":"{record_id}"}})"));
  REQUIRE(b.add(nullptr, "{}", {0, 3}, t0, nullptr, R"({"index":{"_index":"c"}})"));
  b.flush();
  Batch batch = b.take();
  std::string id = "0000000000000000-0000000000000014";
  CHECK(batch.bytes == "{\"index\":{\"_index\":\"a\"}}\n{\"s\":\"a\"}\n"
                       "{\"index\":{\"_index\":\"bb\",\"_id\":\"" + id + "\"}}\n{\"s\":\"bb\"}\n"
                       "{\"index\":{\"_index\":\"c\"}}\n{}\n");
  CHECK(batch.record(0) == R"({"s":"a"})");
  CHECK(batch.record(1) == R"({"s":"bb"})");
  CHECK(batch.record(2) == "{}");
  Batch part = part_of(batch, {1, 2});
  CHECK(part.bytes == "{\"index\":{\"_index\":\"bb\",\"_id\":\"" + id + "\"}}\n{\"s\":\"bb\"}\n"
                      "{\"index\":{\"_index\":\"c\"}}\n{}\n");
  CHECK(part.record(0) == R"({"s":"bb"})");
  CHECK(part.record(1) == "{}");
  CHECK(part_of(part, {1}).bytes == "{\"index\":{\"_index\":\"c\"}}\n{}\n");
}

TEST_CASE("a per-record action line counts toward --max-bytes") {
  BodyFormat format = BodyFormat::bulk_per_record(R"({"index":{}})");
  KeyedBatcher b({.records = 10, .bytes = 40, .interval = 0s}, format);
  std::string action = R"({"index":{"_index":"x"}})";  // 24 bytes, 25 with its newline
  CHECK_FALSE(b.add(nullptr, "0123456789abcdef", {0, 1}, t0, nullptr, action));  // 25 + 16 + 1 > 40
  REQUIRE(b.add(nullptr, "0123456789abcd", {0, 1}, t0, nullptr, action));        // 25 + 14 + 1 = 40
  REQUIRE(b.add(nullptr, "1", {0, 2}, t0, nullptr, action));                     // a batch of its own
  CHECK(b.has_closed());
  CHECK(b.take().records == 1);
  REQUIRE(b.add(nullptr, "2", {0, 3}, t0));  // a record that is never sent: no action line
  b.flush();
  Batch last = b.take();
  CHECK(last.records == 2);
  CHECK(last.record(0) == "1");
  CHECK(last.record(1) == "2");
}

TEST_CASE("a million distinct keys: never more than --max-keys open, memory bounded by them") {
  // The sink takes each closed batch at once and hands it back spent, as the
  // loop does; what the batcher holds never grows with the keys it has seen.
  constexpr uint64_t kMaxKeys = 1000;
  BodyFormat ndjson = BodyFormat::ndjson();  // the batcher holds a reference
  KeyedBatcher b({.records = 1000, .bytes = 8 << 20, .interval = 0s}, ndjson, kMaxKeys);
  uint64_t peak_keys = 0, peak_memory = 0, batches = 0;
  std::string record;
  for (uint64_t i = 0; i < 1'000'000; ++i) {
    record = "{\"k\":\"key" + std::to_string(i) + "\"}";
    REQUIRE(b.add(route("key" + std::to_string(i)), record, {0, i + 1}, t0));
    peak_keys = std::max(peak_keys, b.open_keys());
    peak_memory = std::max(peak_memory, b.memory());
    while (b.has_closed()) {
      Batch batch = b.take();
      REQUIRE(batch.records == 1);
      ++batches;
      b.recycle(std::move(batch));
    }
  }
  b.flush();
  for (; b.has_closed(); ++batches) b.recycle(b.take());
  CHECK(batches == 1'000'000);
  CHECK(peak_keys == kMaxKeys);
  // An open batch of one small record holds a page of its 8 MiB reservation
  // and the allocator's header page (base/memory.h), its ends a little more:
  // about 12 KiB a key, with the spares.
  CHECK(peak_memory <= (kMaxKeys + kSpareBatches) * 12 * 1024);
  CHECK(b.empty());
}
