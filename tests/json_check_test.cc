#include "json/json_check.h"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

using batchpipe::check_json;

namespace {

/// Builds a std::string from a literal that may contain NUL bytes.
template <size_t N>
std::string bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

std::string nested_arrays(size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

/// Checks that `text` is rejected with `reason` at `offset`.
void require_error(std::string_view text, size_t offset, std::string_view reason) {
  INFO("text: " << std::string(text));
  const auto error = check_json(text);
  REQUIRE(error);
  CHECK(error->reason == reason);
  CHECK(error->offset == offset);
}

}  // namespace

TEST_CASE("check_json accepts scalars and containers", "[json_check]") {
  for (const char* text : {
           "0", "-0", "1", "-1", "123", "1.5", "-0.0", "1e5", "1E5", "1e+5", "1e-5", "1.5e+10",
           "-1.25E-3", "0e0", "true", "false", "null", "\"\"", "\"abc\"", "[]", "{}", "[1]",
           "[1,2,3]", "{\"a\":1}", "{\"a\":{\"b\":[true,false,null]}}", "[[],{},\"\",0]",
           "{\"\":\"\"}", "{\"a\":1,\"a\":2}", "[\"\\/\"]", "\"\x7f\"",
       }) {
    INFO(text);
    CHECK_FALSE(check_json(text));
  }
}

TEST_CASE("check_json puts no range limit on numbers", "[json_check]") {
  for (const char* text : {
           "1e400", "-1e400", "1e-400", "123456789012345678901234567890",
           "-123456789012345678901234567890", "18446744073709551616", "1.000000000000000000000000001",
           "[123123e100000]", "0.4e006699999999999999999999999999999", "1E+9999",
       }) {
    INFO(text);
    CHECK_FALSE(check_json(text));
  }
}

TEST_CASE("check_json rejects numbers outside the RFC grammar", "[json_check]") {
  require_error("01", 0, "leading zero in number");
  require_error("-01", 1, "leading zero in number");
  require_error("[00]", 1, "leading zero in number");
  require_error("1.", 2, "expected digit");
  require_error("1.e5", 2, "expected digit");
  require_error(".5", 0, "expected value");
  require_error("-", 1, "expected digit");
  require_error("- 1", 1, "expected digit");
  require_error("-a", 1, "expected digit");
  require_error("+1", 0, "expected value");
  require_error("1e", 2, "expected digit");
  require_error("1e+", 3, "expected digit");
  require_error("1E-", 3, "expected digit");
  require_error("1eE2", 2, "expected digit");
  require_error("0x10", 1, "trailing characters after the value");
  require_error("1.5.2", 3, "trailing characters after the value");
  require_error("[1.0.]", 4, "expected ',' or ']'");
  require_error("NaN", 0, "expected value");
  require_error("Infinity", 0, "expected value");
  require_error("-Infinity", 1, "expected digit");
}

TEST_CASE("check_json rejects misspelled literals", "[json_check]") {
  require_error("tru", 0, "invalid literal");
  require_error("nul", 0, "invalid literal");
  require_error("fals", 0, "invalid literal");
  require_error("True", 0, "expected value");
  require_error("[nulx]", 1, "invalid literal");
  require_error("nulll", 4, "trailing characters after the value");
  require_error("falsey", 5, "trailing characters after the value");
  require_error("[truex]", 5, "expected ',' or ']'");
}

TEST_CASE("check_json wants exactly one value", "[json_check]") {
  require_error("", 0, "empty line");
  require_error(" \t\r\n", 4, "empty line");
  require_error("1 2", 2, "trailing characters after the value");
  require_error("{}{}", 2, "trailing characters after the value");
  require_error("[][]", 2, "trailing characters after the value");
  require_error("\"a\" \"b\"", 4, "trailing characters after the value");
  require_error("[1]]", 3, "trailing characters after the value");
  require_error("{} // comment", 3, "trailing characters after the value");
}

TEST_CASE("check_json allows only JSON whitespace around and between tokens", "[json_check]") {
  CHECK_FALSE(check_json(" \t\r\n[ 1 ,\t2\r\n] \n"));
  CHECK_FALSE(check_json("{ \"a\" : 1 , \"b\" :\n[ ] }"));
  CHECK_FALSE(check_json("\r\n1\r\n"));
  require_error("\f1", 0, "expected value");
  require_error("1\f", 1, "trailing characters after the value");
  require_error("\v[]", 0, "expected value");
  require_error("[\f]", 1, "expected value or ']'");
  require_error("\xC2\xA0" "1", 0, "expected value");            // U+00A0 no-break space
  require_error("[\xE2\x81\xA0]", 1, "expected value or ']'");   // U+2060 word joiner
  require_error("\xEF\xBB\xBF{}", 0, "expected value");          // a BOM is the caller's business
  require_error(bytes("[\0]"), 1, "expected value or ']'");
  require_error(bytes("1\0"), 1, "trailing characters after the value");
}

TEST_CASE("check_json names what a broken array or object lacks", "[json_check]") {
  require_error("[", 1, "expected value or ']'");
  require_error("[1", 2, "expected ',' or ']'");
  require_error("[1 2]", 3, "expected ',' or ']'");
  require_error("[1:2]", 2, "expected ',' or ']'");
  require_error("[1,]", 3, "expected value");
  require_error("[,1]", 1, "expected value or ']'");
  require_error("[1,,2]", 3, "expected value");
  require_error("[1}", 2, "expected ',' or ']'");
  require_error("]", 0, "expected value");
  require_error("{", 1, "expected string key or '}'");
  require_error("{1:2}", 1, "expected string key or '}'");
  require_error("{'a':1}", 1, "expected string key or '}'");
  require_error("{a:1}", 1, "expected string key or '}'");
  require_error("{\"a\"}", 4, "expected ':'");
  require_error("{\"a\" 1}", 5, "expected ':'");
  require_error("{\"a\":}", 5, "expected value");
  require_error("{\"a\"::1}", 5, "expected value");
  require_error("{\"a\":1", 6, "expected ',' or '}'");
  require_error("{\"a\":1,}", 7, "expected string key");
  require_error("{\"a\":1,,}", 7, "expected string key");
  require_error("{\"a\":1 \"b\":2}", 7, "expected ',' or '}'");
  require_error("{\"a\":1]", 6, "expected ',' or '}'");
  require_error("[{]", 2, "expected string key or '}'");
}

TEST_CASE("check_json validates strings and escapes", "[json_check]") {
  for (const char* text : {
           R"("\"\\\/\b\f\n\r\t")", R"("\u0000")", R"("\u001f")", R"("\u00e9\u00E9")", R"("\uFFFF")",
           R"("\uD83D\uDE00")", R"("\uDBFF\uDFFF")", R"("\ud800\udc00")", R"({"\u0061":"\u2028"})",
           "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"", "\"'\"",
       }) {
    INFO(text);
    CHECK_FALSE(check_json(text));
  }
  require_error("\"abc", 4, "unterminated string");
  require_error("[\"abc]", 6, "unterminated string");
  require_error("\"abc\\", 5, "unterminated string");
  require_error("\"\\\"", 3, "unterminated string");
  require_error(R"("\x41")", 1, "invalid escape");
  require_error(R"("\a")", 1, "invalid escape");
  require_error(R"("\U0041")", 1, "invalid escape");
  require_error(R"("\')", 1, "invalid escape");
  require_error("\"\\\t\"", 1, "invalid escape");
  require_error(bytes("\"\\\0\""), 1, "invalid escape");
  require_error(R"("\u12")", 1, "invalid \\u escape");
  require_error(R"("\u12G4")", 1, "invalid \\u escape");
  require_error(R"("\u)", 1, "invalid \\u escape");
  require_error("\"a\tb\"", 2, "control character in string");
  require_error("\"a\nb\"", 2, "control character in string");
  require_error(bytes("\"\0\""), 1, "control character in string");
  require_error("\"\x1f\"", 1, "control character in string");
}

// simdjson 3.0 rejects these, and the checker must agree with it.
TEST_CASE("check_json rejects unpaired surrogate escapes", "[json_check]") {
  require_error(R"("\uD800")", 1, "unpaired surrogate escape");
  require_error(R"("\udbff")", 1, "unpaired surrogate escape");
  require_error(R"("\uDC00")", 1, "unpaired surrogate escape");
  require_error(R"(["\uDFAA"])", 2, "unpaired surrogate escape");
  require_error(R"("\uDE00\uD83D")", 1, "unpaired surrogate escape");
  require_error(R"("x\uD800y")", 2, "unpaired surrogate escape");
  require_error(R"("\uD800\n")", 1, "unpaired surrogate escape");
  require_error(R"("\uD800\u0041")", 1, "unpaired surrogate escape");
  require_error(R"("\uD800\uD800")", 1, "unpaired surrogate escape");
  require_error(R"("\uD800\u")", 7, "invalid \\u escape");
  require_error(R"("\uD800\u12")", 7, "invalid \\u escape");
}

TEST_CASE("check_json validates UTF-8 everywhere", "[json_check]") {
  // Well-formed boundaries of each sequence length.
  for (const char* text : {
           "\"\xC2\x80\"", "\"\xDF\xBF\"", "\"\xE0\xA0\x80\"", "\"\xED\x9F\xBF\"", "\"\xEE\x80\x80\"",
           "\"\xEF\xBF\xBF\"", "\"\xF0\x90\x80\x80\"", "\"\xF4\x8F\xBF\xBF\"",
       }) {
    INFO(text);
    CHECK_FALSE(check_json(text));
  }
  require_error("\"\x80\"", 1, "invalid UTF-8");              // lone continuation byte
  require_error("\"\xBF\"", 1, "invalid UTF-8");
  require_error("\"\xC0\xAF\"", 1, "invalid UTF-8");          // overlong '/'
  require_error("\"\xC1\xBF\"", 1, "invalid UTF-8");
  require_error("\"\xE0\x80\xAF\"", 1, "invalid UTF-8");      // overlong, 3 bytes
  require_error("\"\xF0\x80\x80\xAF\"", 1, "invalid UTF-8");  // overlong, 4 bytes
  require_error("\"\xED\xA0\x80\"", 1, "invalid UTF-8");      // U+D800 encoded
  require_error("\"\xED\xBF\xBF\"", 1, "invalid UTF-8");      // U+DFFF encoded
  require_error("\"\xF4\x90\x80\x80\"", 1, "invalid UTF-8");  // U+110000
  require_error("\"\xF5\x80\x80\x80\"", 1, "invalid UTF-8");
  require_error("\"\xFF\"", 1, "invalid UTF-8");
  require_error("\"\xFE\xFF\"", 1, "invalid UTF-8");
  require_error("\"\xC3\"", 1, "invalid UTF-8");              // truncated before the quote
  require_error("\"\xE2\x82\"", 1, "invalid UTF-8");
  require_error("\"\xF0\x9F\x98\"", 1, "invalid UTF-8");
  require_error("\"\xE2\x82", 1, "invalid UTF-8");            // truncated by the end of text
  require_error("\"ok\xC3(\"", 3, "invalid UTF-8");
  require_error("\"\xE9t\xE9\"", 1, "invalid UTF-8");         // Latin-1
  // Outside strings an invalid byte is named as such, a valid one is just unexpected.
  require_error("\xFF", 0, "invalid UTF-8");
  require_error("[1,\xE9]", 3, "invalid UTF-8");
  require_error("[1\x80]", 2, "invalid UTF-8");
  require_error("[\xC3\xA9]", 1, "expected value or ']'");
  require_error("1 \xED\xA0\x80", 2, "invalid UTF-8");
}

TEST_CASE("check_json limits nesting depth", "[json_check]") {
  CHECK_FALSE(check_json(nested_arrays(1024)));
  require_error(nested_arrays(1025), 1024, "nesting deeper than 1024");
  require_error(std::string(100000, '['), 1024, "nesting deeper than 1024");

  std::string objects;
  for (int i = 0; i < 1024; ++i) objects += "{\"a\":";
  objects += "1" + std::string(1024, '}');
  CHECK_FALSE(check_json(objects));

  std::string mixed;
  for (int i = 0; i < 600; ++i) mixed += "[{\"k\":";
  require_error(mixed, 512 * 6, "nesting deeper than 1024");

  // Siblings do not add up: only the current nesting counts.
  std::string siblings = "[";
  for (int i = 0; i < 2000; ++i) siblings += "[[]],";
  siblings += "[]]";
  CHECK_FALSE(check_json(siblings, 3));

  SECTION("custom limit") {
    CHECK_FALSE(check_json("1", 0));
    const auto error = check_json("[]", 0);
    REQUIRE(error);
    CHECK(error->reason == "nesting deeper than 0");
    CHECK_FALSE(check_json("[[1]]", 2));
    const auto deeper = check_json("[{\"a\":[1]}]", 2);
    REQUIRE(deeper);
    CHECK(deeper->offset == 6);
    CHECK(deeper->reason == "nesting deeper than 2");
  }
}

TEST_CASE("check_json reports the first problem", "[json_check]") {
  require_error("[1,\"\x80\",}", 4, "invalid UTF-8");
  require_error("[tru, \"\x80\"]", 1, "invalid literal");
  require_error("[\"a\n\", 01]", 3, "control character in string");
}

TEST_CASE("check_json takes linear time on long lines", "[json_check]") {
  std::string big = "[";
  for (int i = 0; i < 200000; ++i) big += "{\"k\":\"v\\u00e9\",\"n\":-1.5e3},";
  big += "null]";
  CHECK_FALSE(check_json(big));
  const std::string long_string = "\"" + std::string(1 << 22, 'x') + "\"";
  CHECK_FALSE(check_json(long_string));
  const std::string long_number = std::string(1 << 20, '9') + "e" + std::string(1 << 20, '9');
  CHECK_FALSE(check_json(long_number));
}
