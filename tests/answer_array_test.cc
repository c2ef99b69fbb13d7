#include "json/answer_array.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include <fmt/format.h>

using namespace batchpipe;

namespace {

/// The elements of `body` as strings, checking each span lies inside it.
std::vector<std::string> elements(std::string_view body) {
  INFO("body: " << std::string(body.substr(0, 400)));
  auto result = split_answer_array(body);
  if (auto* error = std::get_if<std::string>(&result)) FAIL("unexpected error: " << *error);
  std::vector<std::string> out;
  for (auto [offset, size] : std::get<AnswerSpans>(result).elements) {
    REQUIRE(size_t{offset} + size <= body.size());
    out.emplace_back(body.substr(offset, size));
  }
  return out;
}

std::string error_of(std::string_view body) {
  INFO("body: " << std::string(body.substr(0, 400)));
  auto result = split_answer_array(body);
  REQUIRE(std::holds_alternative<std::string>(result));
  return std::get<std::string>(result);
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("an array's elements, byte for byte", "[answer_array]") {
  CHECK(elements(R"([1,"two",{"three":3},[4],true,false,null])") ==
        Strings{"1", R"("two")", R"({"three":3})", "[4]", "true", "false", "null"});
  // Numbers keep their spelling; nothing is re-serialized.
  CHECK(elements("[1.50,-0,1E+2,0.1e-7,12345678901234567890123,1e400]") ==
        Strings{"1.50", "-0", "1E+2", "0.1e-7", "12345678901234567890123", "1e400"});
  CHECK(elements(R"([{ "b" : 1 , "a" : [ 2 , 3 ] }])") == Strings{R"({ "b" : 1 , "a" : [ 2 , 3 ] })"});
  CHECK(elements(R"(["\u00e9","\ud83d\ude00","é","😀"])") ==
        Strings{R"("\u00e9")", R"("\ud83d\ude00")", "\"é\"", "\"😀\""});
}

TEST_CASE("the empty array has no elements", "[answer_array]") {
  CHECK(elements("[]").empty());
  CHECK(elements(" \n[ \t\r\n ]\n").empty());
}

TEST_CASE("JSON whitespace is trimmed everywhere, and only it", "[answer_array]") {
  CHECK(elements(" \t\r\n[ \t\r\n1 \t\r\n, \t\r\n\"a b\" \t\r\n, \t\r\n{ } \t\r\n] \t\r\n") ==
        Strings{"1", "\"a b\"", "{ }"});
  CHECK(elements("[\n  {\"a\": 1},\n  {\"a\": 2}\n]\n") == Strings{"{\"a\": 1}", "{\"a\": 2}"});
  CHECK(elements("[\"  padded  \"]") == Strings{"\"  padded  \""});
  // Spans are offsets into the body as given.
  auto spans = std::get<AnswerSpans>(split_answer_array("  [ 10 ,\"x\"]"));
  CHECK(spans.elements == std::vector<std::pair<uint32_t, uint32_t>>{{4, 2}, {8, 3}});
}

TEST_CASE("strings hide brackets, commas and escaped quotes", "[answer_array]") {
  CHECK(elements(R"(["a,b","[","]","{","}","\"","\\","\\\"","x\\\\",",\"]\",",""])") ==
        Strings{R"("a,b")", R"("[")", R"("]")", R"("{")", R"("}")", R"("\"")", R"("\\")", R"("\\\"")",
                R"("x\\\\")", R"(",\"]\",")", R"("")"});
  CHECK(elements(R"([{"k\"]":"v\\"},"\\\\\\",2])") == Strings{R"({"k\"]":"v\\"})", R"("\\\\\\")", "2"});
  CHECK(elements(R"([{"a":"}],["}])") == Strings{R"({"a":"}],["})"});
}

TEST_CASE("nested arrays and objects are one element each", "[answer_array]") {
  CHECK(elements("[[],[[]],[[1,2],[3,[4,[5]]]],{},{\"a\":{\"b\":[{},{\"c\":[]}]}}]") ==
        Strings{"[]", "[[]]", "[[1,2],[3,[4,[5]]]]", "{}", "{\"a\":{\"b\":[{},{\"c\":[]}]}}"});
  std::string deep = std::string(1000, '[') + std::string(1000, ']');
  CHECK(elements("[" + deep + ",0]") == Strings{deep, "0"});
}

TEST_CASE("an answer that is not JSON names the fault and its byte", "[answer_array]") {
  CHECK(error_of("") == "empty");
  CHECK(error_of(" \n ") == "empty");
  CHECK(error_of("[1,2") == "not JSON: expected ',' or ']' at byte 5");
  CHECK(error_of("[1,2,]") == "not JSON: expected value at byte 6");
  CHECK(error_of("[1] [2]") == "not JSON: trailing characters after the value at byte 5");
  CHECK(error_of("[1],") == "not JSON: trailing characters after the value at byte 4");
  CHECK(error_of("[1]\n[2]\n") == "not JSON: trailing characters after the value at byte 5");
  CHECK(error_of("[\"a\"b]") == "not JSON: expected ',' or ']' at byte 5");
  CHECK(error_of("[\"unterminated]") == "not JSON: unterminated string at byte 16");
  CHECK(error_of("[\"\xff\"]") == "not JSON: invalid UTF-8 at byte 3");
  CHECK(error_of("[01]") == "not JSON: leading zero in number at byte 2");
  CHECK(error_of("[\f1]") == "not JSON: expected value or ']' at byte 2");
  CHECK(error_of("<html>oops</html>").starts_with("not JSON: "));
  CHECK(error_of(std::string(1025, '[') + std::string(1025, ']')).starts_with("not JSON: nesting deeper than 1024"));
}

TEST_CASE("a JSON answer that is not an array says what it is", "[answer_array]") {
  CHECK(error_of(R"({"results":[1,2]})") == "not an array but an object");
  CHECK(error_of(R"( "[1,2]" )") == "not an array but a string");
  CHECK(error_of("42") == "not an array but a number");
  CHECK(error_of("-1") == "not an array but a number");
  CHECK(error_of("1e400") == "not an array but a number");
  CHECK(error_of("true") == "not an array but a boolean");
  CHECK(error_of("false") == "not an array but a boolean");
  CHECK(error_of("\nnull\n") == "not an array but null");
}

TEST_CASE("a million elements are split in linear time", "[answer_array]") {
  constexpr size_t n = 1'000'000;
  std::string body = "[";
  for (size_t i = 0; i < n; ++i) {
    if (i) body += i % 2 ? "," : " ,\n ";
    switch (i % 4) {
      case 0: fmt::format_to(std::back_inserter(body), "{}", i); break;
      case 1: fmt::format_to(std::back_inserter(body), R"("id \"{}\" \\")", i); break;
      case 2: fmt::format_to(std::back_inserter(body), R"({{"n":{},"tags":["a","b]"]}})", i); break;
      case 3: fmt::format_to(std::back_inserter(body), "[{},null]", i); break;
    }
  }
  body += "]";

  const auto start = std::chrono::steady_clock::now();
  auto result = split_answer_array(body);
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(std::holds_alternative<AnswerSpans>(result));
  const auto& spans = std::get<AnswerSpans>(result).elements;
  REQUIRE(spans.size() == n);
  const auto at = [&](size_t i) { return body.substr(spans[i].first, spans[i].second); };
  CHECK(at(0) == "0");
  CHECK(at(1) == R"("id \"1\" \\")");
  CHECK(at(2) == R"({"n":2,"tags":["a","b]"]})");
  CHECK(at(999'999) == "[999999,null]");
  // About 0.1 s (up to 3 s with sanitizers on a busy machine); quadratic work
  // would take hours, so the bound is loose enough never to be flaky.
  CHECK(took < std::chrono::seconds(30));
}

TEST_CASE("one huge string element", "[answer_array]") {
  std::string big = "\"" + std::string(5'000'000, 'x') + "\\\\\\\"" + std::string(1000, '\\') + "\"";
  CHECK(elements("[" + big + "]") == Strings{big});
}
