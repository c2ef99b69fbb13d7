#include <catch2/catch.hpp>

#include "cli/suggest.h"

using namespace batchpipe;

TEST_CASE("edit_distance counts inserts, deletes, replacements and swaps", "[cli]") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("--size", "--size") == 0);
  CHECK(edit_distance("--sise", "--size") == 1);     // replace
  CHECK(edit_distance("--sze", "--size") == 1);      // insert
  CHECK(edit_distance("--sizze", "--size") == 1);    // delete
  CHECK(edit_distance("--intreval", "--interval") == 1);  // swap
  CHECK(edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("closest_name suggests only a likely typo", "[cli]") {
  std::vector<std::string> names{"--size", "--interval", "--max-bytes", "--max-buffer", "--stats", "-q", "-v", "-H"};
  CHECK(closest_name("--sise", names) == "--size");
  CHECK(closest_name("--intreval", names) == "--interval");
  CHECK(closest_name("--max-byte", names) == "--max-bytes");
  CHECK(closest_name("-size", names) == "--size");
  CHECK(closest_name("--stat", names) == "--stats");
  CHECK_FALSE(closest_name("--frobnicate", names));
  CHECK_FALSE(closest_name("--zz", names));
  CHECK_FALSE(closest_name("-x", names));  // one letter: any other letter would be as near
  CHECK_FALSE(closest_name("--", names));
}
