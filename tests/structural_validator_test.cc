#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "joined_lines.h"
#include "json/line_validator.h"
#include "json/structural_validator.h"

using namespace batchpipe;

namespace {

/// confirm() over `lines` joined with newlines, as a block holds them.
std::vector<uint8_t> confirmed(const std::vector<std::string>& lines, bool* first_pass_ok = nullptr) {
  test::JoinedLines block = test::join_lines(lines);
  StructuralValidator v(1 << 20);
  std::vector<uint8_t> out;
  bool ok = v.confirm(block.data.data(), block.spans, out);
  if (first_pass_ok) *first_pass_ok = ok;
  return out;
}

bool confirms(const std::string& line) { return confirmed({line}).at(0) != 0; }

}  // namespace

TEST_CASE("structural validator: confirms every kind of valid text") {
  for (const char* ok : {"{}", "[]", "{\"a\":1}", "[1,-2,3.5,-0.25e+10,0E-3,1e400]", "\"\"", "\"s\"", "0", "-0",
                         "true", "false", "null", "{\"a\":{\"b\":[{},[],\"\"]}}", " [ 1 , 2 ] ",
                         "{\"k\" : \"v\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uFFFF\"}", "\"caf\xc3\xa9\"",
                         "123456789012345678901234567890", "[true,false,null]"}) {
    INFO(ok);
    std::string line(ok);
    // The framer trims the line; the walk sees what lies between its first and last byte.
    while (line.front() == ' ') line.erase(0, 1);
    while (line.back() == ' ') line.pop_back();
    CHECK(confirms(line));
  }
}

TEST_CASE("structural validator: never confirms an invalid text") {
  for (const char* bad : {"{", "}", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{\"a\" 1}", "{1:2}", "{\"a\":1,}",
                          "[1 2]", "1 2", "{}{}", "{} x", "[]]", "nulll", "tru", "falsey", "-", "01", "1.", ".5",
                          "1e", "1e+", "+1", "0x1", "\"a\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"a\"b", "[\"a\"\"b\"]",
                          "{\"a\":1 \"b\":2}", "[1]x", "Infinity", "NaN", "'a'", "[-]", "{\"a\"::1}", "{,}"}) {
    INFO(bad);
    CHECK_FALSE(confirms(bad));
  }
}

TEST_CASE("structural validator: leaves surrogate escapes and deep nesting to the full parser") {
  CHECK_FALSE(confirms("\"\\ud83d\\ude00\""));
  CHECK_FALSE(confirms("\"\\uDFAA\""));
  CHECK(confirms(std::string(256, '[') + std::string(256, ']')));
  CHECK_FALSE(confirms(std::string(257, '[') + std::string(257, ']')));
}

TEST_CASE("structural validator: a failed first pass confirms nothing") {
  bool ok = true;
  CHECK(confirmed({"{\"a\":1}", "[\"\xff\"]"}, &ok) == std::vector<uint8_t>{0, 0});
  CHECK_FALSE(ok);
  CHECK(confirmed({"{\"a\":1}", "{\"a\":\"open"}, &ok) == std::vector<uint8_t>{0, 0});
  CHECK_FALSE(ok);
  CHECK(confirmed({"{\"a\":\"tab\there\"}"}, &ok) == std::vector<uint8_t>{0});
  CHECK_FALSE(ok);
}

TEST_CASE("structural validator: lines of one window are judged each on its own") {
  bool ok = false;
  CHECK(confirmed({"{\"a\":1}", "[1,", "2]", "\"x\"", "3 4", "{}"}, &ok) == std::vector<uint8_t>{1, 0, 0, 1, 0, 1});
  CHECK(ok);
}

TEST_CASE("structural validator: agrees with the full parser on random token soups") {
  // Every line it confirms, the full parser accepts; every line the full
  // parser accepts, it confirms unless a surrogate escape is in it.
  const std::vector<std::string> tokens{"{", "}", "[", "]", ",", ":", " ", "\"a\"", "\"\\n\"", "\"\\u00e9\"",
                                        "\"\\ud800\"", "\"\\q\"", "1", "-0.5e3", "01", "1.", "true", "tru", "null",
                                        "\"", "\\", "x", "\"\xc3\xa9\"", "0", "-", "e5"};
  std::mt19937 rng(20261207);
  LineValidator full(false);
  size_t agreed_valid = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string line;
    size_t count = 1 + rng() % 8;
    for (size_t i = 0; i < count; ++i) line += tokens[rng() % tokens.size()];
    while (!line.empty() && line.front() == ' ') line.erase(0, 1);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (line.empty()) continue;
    bool fast = confirms(line);
    bool valid = !full.check_line(line).has_value();
    INFO(line);
    if (fast) CHECK(valid);
    if (valid && line.find("\\ud") == std::string::npos) CHECK(fast);
    agreed_valid += fast && valid;
  }
  CHECK(agreed_valid > 500);  // the soup holds enough valid texts to mean something
}
