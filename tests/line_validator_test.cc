#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "joined_lines.h"
#include "json/line_validator.h"

using namespace batchpipe;

namespace {

/// Runs validate() over `lines` joined with newlines; returns the indexes of
/// the lines found invalid.
std::vector<size_t> invalid_lines(const std::vector<std::string>& lines) {
  test::JoinedLines block = test::join_lines(lines);
  std::vector<LineProblem> problems;
  LineValidator v;
  v.validate(block.data.data(), block.size, block.spans, problems);
  std::vector<size_t> out;
  for (auto& p : problems) {
    CHECK_FALSE(p.reason.empty());
    out.push_back(p.index);
  }
  return out;
}

}  // namespace

TEST_CASE("a block of valid lines passes") {
  std::vector<std::string> lines;
  for (int i = 0; i < 1000; ++i) lines.push_back("{\"i\":" + std::to_string(i) + ",\"s\":[1,2,{}]}");
  CHECK(invalid_lines(lines).empty());
}

TEST_CASE("each invalid line is found, whatever surrounds it") {
  std::vector<std::string> lines{"{\"a\":1}", "{\"a\":", "[1,2]", "1 2", "{}{}", "nulll",
                                 "true",      "\"s\"",  "{} x",  "[]]", "{\"b\":[]}", "12",
                                 "falsey",    "-",      "{\"a\":1}"};
  CHECK(invalid_lines(lines) == std::vector<size_t>{1, 3, 4, 5, 8, 9, 12, 13});
}

TEST_CASE("numbers beyond double range are still valid JSON") {
  CHECK(invalid_lines({"1e400", "[1e309]", "123456789012345678901234567890",
                       "{\"n\":-123456789012345678901234567890}"})
            .empty());
  CHECK(invalid_lines({"[1e400,]"}) == std::vector<size_t>{0});
}

TEST_CASE("nesting: 1024 levels are valid, with or without a value inside, 1025 are not") {
  std::string empty = std::string(1024, '[') + std::string(1024, ']');
  std::string with_value = std::string(1024, '[') + "1" + std::string(1024, ']');
  std::string too_deep = std::string(1025, '[') + std::string(1025, ']');
  CHECK(invalid_lines({empty, with_value, too_deep}) == std::vector<size_t>{2});
}

TEST_CASE("a truncated last line is not confirmed by the fast path") {
  CHECK(invalid_lines({"{\"a\":1}", "{\"a\":1}", "{\"a\""}) == std::vector<size_t>{2});
}

TEST_CASE("invalid UTF-8 is found on its line") {
  CHECK(invalid_lines({"\"ok\"", "[\"\xff\"]", "{\"x\":\"\xc3\xa9\"}"}) == std::vector<size_t>{1});
}

TEST_CASE("errors spread through a large block are each reported once") {
  std::vector<std::string> lines;
  std::vector<size_t> expected;
  for (size_t i = 0; i < 5000; ++i) {
    if (i % 7 == 3) {
      lines.push_back("{\"broken\":");
      expected.push_back(i);
    } else {
      lines.push_back(i % 2 ? "[1,2,3]" : "42");
    }
  }
  CHECK(invalid_lines(lines) == expected);
}

TEST_CASE("check_line explains the problem") {
  LineValidator v;
  CHECK_FALSE(v.check_line("{\"a\":[1,2]}"));
  auto reason = v.check_line("{\"a\" 1}");
  REQUIRE(reason);
  CHECK(reason->find("column") != std::string::npos);
}

TEST_CASE("a block mixing valid and invalid lines of every kind is judged as line by line") {
  // Windows of the structural path, windows whose first pass fails (an open
  // string, a raw tab, bad UTF-8) and lines it is not sure of all end where
  // check_line would have put them.
  const std::vector<std::string> pieces{"{\"a\":1}", "[1,2,{\"b\":null}]", "\"s\\n\"", "12", "-0.5e3", "true",
                                        "{\"a\":", "[1,]", "01", "\"\\ud83d\\ude00\"", "\"open", "\"tab\there\"",
                                        "[\"\xff\"]", "{\"k\":\"caf\xc3\xa9\"}", "1e400", "nul", "{} {}"};
  std::mt19937 rng(7);
  std::vector<std::string> lines;
  for (int i = 0; i < 30000; ++i) lines.push_back(pieces[rng() % pieces.size()]);
  LineValidator one_by_one;
  std::vector<size_t> expected;
  for (size_t i = 0; i < lines.size(); ++i)
    if (one_by_one.check_line(lines[i])) expected.push_back(i);
  CHECK(invalid_lines(lines) == expected);
}
