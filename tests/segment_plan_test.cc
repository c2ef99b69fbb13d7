#include <catch2/catch.hpp>

#include <algorithm>

#include "spool/segment_plan.h"

using namespace batchpipe;

TEST_CASE("segment names are the stream offset, 20 digits, and sort as ls sorts them", "[spool]") {
  CHECK(segment_name(0) == "00000000000000000000.ndjson");
  CHECK(segment_name(4194304) == "00000000000004194304.ndjson");
  CHECK(segment_name(UINT64_MAX) == "18446744073709551615.ndjson");
  std::vector<uint64_t> bases = {9, 10, 100, 4194304, 123456789012, 0};
  std::vector<std::string> names;
  for (uint64_t b : bases) names.push_back(segment_name(b));
  std::sort(names.begin(), names.end());
  std::sort(bases.begin(), bases.end());
  for (size_t i = 0; i < bases.size(); ++i) CHECK(parse_segment_name(names[i]) == bases[i]);
}

TEST_CASE("only segment names parse", "[spool]") {
  CHECK(parse_segment_name("00000000000000000012.ndjson") == 12u);
  CHECK_FALSE(parse_segment_name("state"));
  CHECK_FALSE(parse_segment_name("0000000000000000012.ndjson"));   // 19 digits
  CHECK_FALSE(parse_segment_name("000000000000000000012.ndjson"));  // 21
  CHECK_FALSE(parse_segment_name("0000000000000000001x.ndjson"));
  CHECK_FALSE(parse_segment_name("00000000000000000012.ndjson.tmp"));
  CHECK_FALSE(parse_segment_name(".00000000000000000012.ndjson"));
  CHECK_FALSE(parse_segment_name("99999999999999999999.ndjson"));  // beyond 64 bits
}

TEST_CASE("a segment goes once every record before its end is committed", "[spool]") {
  std::vector<SegmentSpan> s = {{0, 100}, {100, 50}, {150, 10}};
  CHECK(deletable_segments(s, 0, false) == 0);
  CHECK(deletable_segments(s, 99, false) == 0);
  CHECK(deletable_segments(s, 100, false) == 1);
  CHECK(deletable_segments(s, 149, false) == 1);
  CHECK(deletable_segments(s, 150, false) == 2);
  CHECK(deletable_segments(s, 160, false) == 3);
  CHECK(deletable_segments(s, 160, true) == 2);  // the one being written stays
  CHECK(deletable_segments(s, 1000, true) == 2);
  CHECK(deletable_segments({}, 1000, true) == 0);
  // A gap (a torn tail, a segment removed by hand): a later commit passes it.
  std::vector<SegmentSpan> gap = {{0, 90}, {100, 50}};
  CHECK(deletable_segments(gap, 95, false) == 1);
}

TEST_CASE("the whole lines of a segment's tail end after its last newline", "[spool]") {
  CHECK(whole_lines_end("") == 0);
  CHECK(whole_lines_end("{\"a\":1}\n") == 8);
  CHECK(whole_lines_end("{\"a\":1}\n{\"b\"") == 8);
  CHECK(whole_lines_end("{\"b\"") == 0);
  CHECK(whole_lines_end("1\n2\n") == 4);
}

TEST_CASE("a run reads from the commit point and writes after the last segment", "[spool]") {
  std::vector<SegmentSpan> s = {{100, 50}, {150, 10}};
  CHECK(first_read_offset(s, 0) == 100);    // what was before is gone
  CHECK(first_read_offset(s, 120) == 120);  // part of the first was committed
  CHECK(first_read_offset(s, 150) == 150);
  CHECK(first_read_offset(s, 160) == 160);  // all committed
  CHECK(next_write_offset(s, 0) == 160);
  CHECK(next_write_offset(s, 500) == 500);  // every segment deleted: numbering goes on from the commit point
  CHECK(next_write_offset({}, 0) == 0);
  CHECK(first_read_offset({}, 42) == 42);
}
