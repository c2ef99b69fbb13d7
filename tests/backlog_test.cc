#include <catch2/catch.hpp>

#include "base/byte_buffer.h"
#include "base/memory.h"
#include "batch/backlog.h"
#include "batch/keyed_batcher.h"

using namespace batchpipe;
using namespace std::chrono_literals;

TEST_CASE("a closed batch's record cost adds up to what its records cost", "[backlog]") {
  for (uint64_t size : {1u, 2u, 7u, 100u}) {
    KeyedBatcher b({.records = size, .bytes = 1 << 20, .interval = 0s});
    std::vector<std::string> records = {"1", "{}", "\"abc\"", "[1,2,3]", "{\"k\":\"v\"}", "12345678"};
    uint64_t charged = 0, credited = 0;
    for (int round = 0; round < 50; ++round) {
      const std::string& r = records[round % records.size()];
      REQUIRE(b.add(nullptr, r, {0, 1}, TimePoint{}));
      charged += record_cost(r.size());
    }
    b.flush();
    while (b.has_closed()) credited += batch_cost(b.take());
    CHECK(credited == charged);
  }
}

TEST_CASE("the budget is full at its figure, summed over its accounts", "[backlog]") {
  Backlog budget(100);
  CHECK(budget.fits(100));
  CHECK_FALSE(budget.fits(101));
  budget.set(Held::Batcher, 60);
  CHECK_FALSE(budget.full());
  CHECK(budget.fits(40));
  CHECK_FALSE(budget.fits(41));
  budget.add(Held::Sink, 30);
  budget.set(Held::Input, 10);
  CHECK(budget.full());
  CHECK(budget.used() == 100);
  budget.set(Held::Batcher, 0);  // a set replaces, an add adds
  CHECK(budget.used() == 40);
  budget.remove(Held::Sink, 1000);  // never below zero
  CHECK(budget.held(Held::Sink) == 0);
  CHECK(budget.used() == 10);
  budget.add_records(3);
  budget.remove_records(5);
  CHECK(budget.records() == 0);
}

TEST_CASE("a buffer holds its whole capacity when small, its written pages when mapped", "[backlog]") {
  CHECK(memory_held(1000, 10) == 1000);
  CHECK(memory_held(kMappedBytes - 1, 0) == kMappedBytes - 1);
  // Mapped: the pages written, and the allocator's header page.
  CHECK(memory_held(8 << 20, 0) == kPageBytes);
  CHECK(memory_held(8 << 20, 1) == 2 * kPageBytes);
  CHECK(memory_held(8 << 20, kPageBytes + 1) == 3 * kPageBytes);
  CHECK(memory_held(kMappedBytes, kMappedBytes) == kMappedBytes);  // never more than the capacity
}

TEST_CASE("the batcher's memory follows its batches, from open to taken", "[backlog]") {
  const uint64_t max_bytes = 4 << 20;
  KeyedBatcher b({.records = 1000000, .bytes = max_bytes, .interval = 0s});
  CHECK(b.memory() == 0);  // a batch opens with its first record
  REQUIRE(b.add(nullptr, "1", {0, 1}, TimePoint{}));
  uint64_t opened = b.memory();
  CHECK(opened > 0);
  CHECK(opened <= 4 * kPageBytes);  // reserved at --max-bytes, one record written
  std::string record(100000, 'x');
  record.front() = record.back() = '"';
  for (int i = 0; i < 10; ++i) REQUIRE(b.add(nullptr, record, {0, 1}, TimePoint{}));
  uint64_t open = b.memory();
  CHECK(open >= 10 * record.size());
  CHECK(open <= 10 * record.size() + 6 * kPageBytes);
  b.flush();
  CHECK(b.memory() >= open);  // closed, not yet taken: still the batcher's
  Batch taken = b.take();
  CHECK(taken.charged == taken.memory());
  CHECK(taken.charged >= 10 * record.size());
  CHECK(b.memory() == 0);  // what left with the batch is no longer counted here
  CHECK(taken.bytes.capacity() >= max_bytes);  // never moved while it grew
  // A spare buffer keeps the pages its largest batch wrote, and counts them,
  // and so does the next batch it opens.
  b.recycle(std::move(taken));
  CHECK(b.memory() >= 10 * record.size());
  REQUIRE(b.add(nullptr, "2", {0, 2}, TimePoint{}));
  CHECK(b.memory() >= 10 * record.size());
  b.flush();
  Batch reused = b.take();
  CHECK(reused.bytes == "[2]\n");
  CHECK(reused.bytes.capacity() >= max_bytes);
  CHECK(b.memory() == 0);
}

TEST_CASE("a giant record is handed to `copied` a piece at a time as it is copied", "[backlog]") {
  static std::vector<size_t> pieces;
  pieces.clear();
  KeyedBatcher b({.records = 10, .bytes = 8 << 20, .interval = 0s});
  std::string record(3 << 20, 'x');
  record.front() = record.back() = '"';
  REQUIRE(b.add(nullptr, record, {0, 1}, TimePoint{}, [](const char*, size_t n) { pieces.push_back(n); }));
  CHECK(pieces == std::vector<size_t>{1 << 20, 1 << 20, 1 << 20});
  b.flush();
  CHECK(b.take().record(0) == record);
}

TEST_CASE("a ByteBuffer keeps its bytes as it grows and shrinks", "[backlog]") {
  ByteBuffer a(10);
  std::memcpy(a.data(), "0123456789", 10);
  a.resize(1 << 20);
  CHECK(std::string_view(a.data(), 10) == "0123456789");
  a.resize(4);
  CHECK(a.size() == 4);
  ByteBuffer copy = a;
  CHECK(std::string_view(copy.data(), 4) == "0123");
  ByteBuffer moved = std::move(a);
  CHECK(moved.size() == 4);
  CHECK(a.size() == 0);
}

TEST_CASE("pages given back read as zeros, and only whole pages inside the range go", "[backlog]") {
  ByteBuffer buf(16 * kPageBytes);
  std::memset(buf.data(), 'x', buf.size());
  release_pages(buf.data() + 1, buf.size() - 2);
  CHECK(buf[0] == 'x');
  CHECK(buf[buf.size() - 1] == 'x');
  // A page wholly inside the range: read again, it is zeros (or, if the
  // allocator gave no page of its own, untouched).
  size_t middle = 8 * kPageBytes;
  CHECK((buf[middle] == '\0' || buf[middle] == 'x'));
}
