#include <catch2/catch.hpp>

#include "json/shape_hint.h"

using namespace batchpipe;

TEST_CASE("pretty-printed objects get one hint after a run of invalid lines", "[shape_hint]") {
  ShapeHint h;
  CHECK_FALSE(h.see(0, "a.json", "{\"a\": 1,", true));
  CHECK_FALSE(h.see(0, "a.json", "\"b\": 2", true));
  auto hint = h.see(0, "a.json", "}", true);
  REQUIRE(hint);
  CHECK(hint->find("pretty-printed") != std::string::npos);
  CHECK(hint->find("jq -c . a.json") != std::string::npos);
  CHECK_FALSE(h.see(0, "a.json", "{", true));  // once per input
}

TEST_CASE("a lone opening bracket hints at once", "[shape_hint]") {
  ShapeHint h;
  auto hint = h.see(0, "stdin", "[", true);
  REQUIRE(hint);
  CHECK(*hint == "hint: stdin looks like one JSON array spread over lines, not NDJSON; try: jq -c '.[]' | batchpipe ...");
  auto next = h.see(1, "b.json", "{", true);  // a new input: its own hint
  REQUIRE(next);
}

TEST_CASE("NDJSON with bad lines gets no hint", "[shape_hint]") {
  ShapeHint h;
  CHECK_FALSE(h.see(0, "x", "{\"a\":1}", false));
  for (int i = 0; i < 10; ++i) CHECK_FALSE(h.see(0, "x", "{bad", true));
  ShapeHint g;  // invalid first line not starting a document
  for (int i = 0; i < 10; ++i) CHECK_FALSE(g.see(0, "x", "oops", true));
}
