// --dead-letter-reasons' JSON lines.
#include <catch2/catch.hpp>

#include "deliver/dead_letter_reason.h"

using namespace batchpipe;

namespace {

DeadLetterReason sample() {
  DeadLetterReason r;
  r.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1796668200123));  // 2026-12-07T18:30:00.123Z
  r.batch = 7;
  r.record = 790;
  r.records = 1000;
  r.input = "events.ndjson";
  r.first_line = 6001;
  r.last_line = 7000;
  r.line = 6790;
  r.status = 400;
  r.reason = "HTTP 400 from db:8123: \"Code: 41, ...\"";
  return r;
}

}  // namespace

TEST_CASE("a reason is one JSON line with every field") {
  CHECK(format_reason(sample()) ==
        "{\"time\":\"2026-12-07T18:30:00.123Z\",\"batch\":7,\"record\":790,\"records\":1000,\"input\":\"events.ndjson\","
        "\"line\":6790,\"lines\":[6001,7000],\"status\":400,\"reason\":\"HTTP 400 from db:8123: \\\"Code: 41, ...\\\"\"}\n");
}

TEST_CASE("no status is null; control bytes, quotes and bad UTF-8 are escaped") {
  DeadLetterReason r = sample();
  r.status = 0;
  r.input = "a\"b\\c\n";
  std::string reason = "tab\there \xff end";
  r.reason = reason;
  std::string line = format_reason(r);
  CHECK(line.find("\"status\":null") != std::string::npos);
  r.line = 0;
  CHECK(format_reason(r).find("\"line\":null,\"lines\":[6001,7000]") != std::string::npos);
  CHECK(line.find("\"input\":\"a\\\"b\\\\c\\n\"") != std::string::npos);
  CHECK(line.find("\"reason\":\"tab\\there \xef\xbf\xbd end\"") != std::string::npos);
  CHECK(line.find('\n') == line.size() - 1);  // one line
}
