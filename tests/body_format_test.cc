#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "batch/backlog.h"
#include "batch/body_format.h"
#include "batch/keyed_batcher.h"
#include "cli/format_options.h"

using namespace batchpipe;
using namespace std::chrono_literals;

namespace {

TimePoint t0{};

/// Every batch `format` makes of `records` with --size `size`, and checks
/// on each that sizes, record() and framed_record() agree with the bytes.
std::vector<std::string> batches(const BodyFormat& format, const std::vector<std::string>& records, uint64_t size,
                                 uint64_t max_bytes = 1 << 20) {
  KeyedBatcher b({.records = size, .bytes = max_bytes, .interval = 0s}, format);
  uint64_t line = 0;
  for (const std::string& r : records) {
    ++line;
    REQUIRE(b.add(nullptr, r, {.input = 0, .line = line, .offset = line * 100, .end = line * 100 + 99, .source = 0xab}, t0));
  }
  b.flush();
  std::vector<std::string> out;
  size_t next = 0;
  while (b.has_closed()) {
    Batch batch = b.take();
    uint64_t record_bytes = 0, cost = 0;
    for (size_t i = 0; i < batch.records; ++i, ++next) {
      CHECK(batch.record(i) == records[next]);
      record_bytes += batch.record(i).size();
      cost += record_cost(batch.record(i).size(), format);
    }
    CHECK(format.body_size(batch.records, record_bytes) == batch.bytes.size());
    CHECK(batch_cost(batch) == cost);
    CHECK(batch.bytes.size() <= max_bytes);
    out.push_back(batch.bytes);
  }
  CHECK(next == records.size());
  return out;
}

}  // namespace

TEST_CASE("array: brackets, commas and a newline") {
  auto f = BodyFormat::array();
  CHECK(batches(f, {"1", "{\"a\":2}", "3"}, 2) == std::vector<std::string>{"[1,{\"a\":2}]\n", "[3]\n"});
  CHECK(f.max_record_size(4) == 1);
  CHECK(std::string(f.content_type()) == "application/json");
}

TEST_CASE("--wrap puts the array between the prefix and the suffix") {
  auto f = BodyFormat::array("{\"events\":", ",\"v\":1}");
  CHECK(batches(f, {"1", "2", "3"}, 2) ==
        std::vector<std::string>{"{\"events\":[1,2],\"v\":1}\n", "{\"events\":[3],\"v\":1}\n"});
  CHECK(f.max_record_size(f.body_size(1, 5)) == 5);
}

TEST_CASE("ndjson: each record and a newline, nothing else") {
  auto f = BodyFormat::ndjson();
  CHECK(batches(f, {"1", "[2]", "3"}, 2) == std::vector<std::string>{"1\n[2]\n", "3\n"});
  CHECK(f.max_record_size(2) == 1);
  CHECK(std::string(f.content_type()) == "application/x-ndjson");
}

TEST_CASE("bulk: an action line before each record, ids filled in") {
  auto plain = BodyFormat::bulk("{\"index\":{}}");
  CHECK(batches(plain, {"{\"a\":1}", "{\"b\":2}"}, 5) ==
        std::vector<std::string>{"{\"index\":{}}\n{\"a\":1}\n{\"index\":{}}\n{\"b\":2}\n"});
  CHECK_FALSE(plain.bulk_create());
  auto ids = BodyFormat::bulk("{\"create\":{\"_id\":\"{record_id}\"}}");
  CHECK(ids.bulk_create());
  CHECK(ids.uses_record_id());
  auto out = batches(ids, {"{}", "{}"}, 5);
  CHECK(out == std::vector<std::string>{"{\"create\":{\"_id\":\"00000000000000ab-0000000000000064\"}}\n{}\n"
                                        "{\"create\":{\"_id\":\"00000000000000ab-00000000000000c8\"}}\n{}\n"});
}

TEST_CASE("the byte limit counts every byte a format adds") {
  for (const BodyFormat& f : {BodyFormat::array(), BodyFormat::array("{\"e\":", "}"), BodyFormat::ndjson(),
                              BodyFormat::bulk("{\"index\":{\"_id\":\"{record_id}\"}}")}) {
    std::vector<std::string> records;
    for (int i = 0; i < 40; ++i) records.push_back(std::string(1 + i % 7, '7'));
    uint64_t limit = f.body_size(3, 12);
    for (const std::string& body : batches(f, records, 1000, limit)) CHECK(body.size() <= limit);
    KeyedBatcher b({.records = 10, .bytes = limit, .interval = 0s}, f);
    CHECK(b.add(nullptr, std::string(f.max_record_size(limit), '1'), {}, t0));
    CHECK_FALSE(b.add(nullptr, std::string(f.max_record_size(limit) + 1, '1'), {}, t0));
  }
}

TEST_CASE("part_of re-encodes some records of a batch, action lines included") {
  for (const BodyFormat& f : {BodyFormat::array(), BodyFormat::ndjson(), BodyFormat::bulk("{\"index\":{}}")}) {
    KeyedBatcher b({.records = 4, .bytes = 1000, .interval = 0s}, f);
    for (std::string r : {"10", "\"b\"", "[3]", "{}"}) b.add(nullptr, r, {}, t0);
    Batch whole = b.take();
    Batch part = part_of(whole, {1, 3});
    REQUIRE(part.records == 2);
    CHECK(part.record(0) == "\"b\"");
    CHECK(part.record(1) == "{}");
    CHECK(part.number == whole.number);
    KeyedBatcher expect({.records = 2, .bytes = 1000, .interval = 0s}, f);
    expect.add(nullptr, "\"b\"", {}, t0);
    expect.add(nullptr, "{}", {}, t0);
    CHECK(part.bytes == expect.take().bytes);
  }
}

TEST_CASE("--format, --wrap and --bulk-action are checked at start-up") {
  auto error = [](std::string format, std::string wrap, std::string action) {
    auto r = make_body_format(format, wrap, action);
    return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : std::string();
  };
  CHECK(error("array", "{\"events\":@}", "") == "");
  CHECK(error("array", "{\"at\":\"a@b\",\"e\":@}", "") == "");
  CHECK(error("array", "@", "") == "");
  CHECK_THAT(error("array", "{\"e\":@@}", ""), Catch::Contains("found 2 @"));
  CHECK_THAT(error("array", "{\"e\":1}", ""), Catch::Contains("found 0 @"));
  CHECK_THAT(error("array", "{\"e\":@", ""), Catch::Contains("not valid JSON"));
  CHECK_THAT(error("array", "{\"e\":\n@}", ""), Catch::Contains("one line"));
  CHECK_THAT(error("ndjson", "@", ""), Catch::Contains("only applies with --format array"));
  CHECK_THAT(error("array", "", "{\"index\":{}}"), Catch::Contains("only applies with --format bulk"));
  CHECK(error("bulk", "", "") == "");
  CHECK(error("bulk", "", "{\"create\":{\"_index\":\"logs\",\"_id\":\"{record_id}\"}}") == "");
  CHECK_THAT(error("bulk", "", "{\"delete\":{}}"), Catch::Contains("index or create"));
  CHECK_THAT(error("bulk", "", "[1]"), Catch::Contains("index or create"));
  CHECK_THAT(error("bulk", "", "{\"index\":{},\"x\":1}"), Catch::Contains("one key"));
  CHECK_THAT(error("bulk", "", "{\"index\":{}, \"x\":{}}"), Catch::Contains("one key"));
  CHECK(error("bulk", "", "{\"index\":{\"_index\":\"a,b\",\"routing\":[1,2]}}") == "");
  CHECK_THAT(error("bulk", "", "{\"index\":"), Catch::Contains("not valid JSON"));
  CHECK_THAT(error("bulk", "", "{\"index\":{\"_id\":{record_id}}}"), Catch::Contains("not valid JSON"));
}
