// The one record limit: the same figure the batcher enforces, for every format.
#include <catch2/catch.hpp>

#include <string>

#include "batch/keyed_batcher.h"
#include "cli/record_limit.h"

using namespace batchpipe;
using namespace std::chrono_literals;

TEST_CASE("the record limit is what a batch of one record under --max-bytes can hold", "[record_limit]") {
  for (const BodyFormat& format : {BodyFormat::array(), BodyFormat::ndjson(), BodyFormat::bulk("{\"index\":{}}"),
                                   BodyFormat::array("{\"events\":", "}")}) {
    for (uint64_t max_bytes : {64u, 1000u, 8u << 20}) {
      RecordLimit limit = RecordLimit::of(max_bytes, format, false);
      KeyedBatcher batcher({.records = 10, .bytes = max_bytes, .interval = 0s}, format);
      CHECK(limit.record == format.max_record_size(max_bytes));
      CHECK(limit.record + limit.frame == max_bytes);
      CHECK(limit.line == limit.record);
      CHECK(batcher.add(nullptr, std::string(limit.record, '1'), {}, TimePoint{}));
      CHECK_FALSE(batcher.add(nullptr, std::string(limit.record + 1, '1'), {}, TimePoint{}));
      batcher.flush();
      CHECK(batcher.take().bytes.size() == max_bytes);
    }
  }
}

TEST_CASE("--input text: a line costs its quotes, so the longest line is two shorter", "[record_limit]") {
  RecordLimit limit = RecordLimit::of(1024, BodyFormat::array(), true);
  CHECK(limit.record == 1021);
  CHECK(limit.line == 1019);
  CHECK(limit.frame_words.find("brackets") != std::string::npos);
  CHECK(RecordLimit::of(4, BodyFormat::array(), true).line == 0);  // one byte of record: no line fits
}
