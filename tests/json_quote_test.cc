#include "json/json_quote.h"

#include "json/json_check.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>

using batchpipe::append_json_quoted;
using batchpipe::check_json;

namespace {

/// Builds a std::string from a literal that may contain NUL bytes.
template <size_t N>
std::string bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

struct Quoted {
  std::string text;
  size_t replacements;
};

Quoted quote(std::string_view raw) {
  std::string out;
  const size_t replacements = append_json_quoted(raw, out);
  return {out, replacements};
}

const std::string kFffd = "\xEF\xBF\xBD";

}  // namespace

TEST_CASE("append_json_quoted keeps plain text and valid UTF-8", "[json_quote]") {
  CHECK(quote("").text == "\"\"");
  CHECK(quote("hello world").text == "\"hello world\"");
  CHECK(quote("{not json: 1}").text == "\"{not json: 1}\"");
  CHECK(quote("a/b'c").text == "\"a/b'c\"");
  const std::string utf8 = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBF \xF4\x8F\xBF\xBF";
  const Quoted q = quote(utf8);
  CHECK(q.text == "\"" + utf8 + "\"");
  CHECK(q.replacements == 0);
  CHECK(quote("\x7f").text == "\"\x7f\"");  // DEL is valid unescaped JSON
  CHECK(quote(kFffd).replacements == 0);      // an existing U+FFFD is not a replacement
}

TEST_CASE("append_json_quoted appends to what is already there", "[json_quote]") {
  std::string out = "[";
  CHECK(append_json_quoted("a\"b", out) == 0);
  out += ',';
  CHECK(append_json_quoted("\xFF", out) == 1);
  out += ']';
  CHECK(out == "[\"a\\\"b\",\"" + kFffd + "\"]");
  CHECK_FALSE(check_json(out));
}

TEST_CASE("append_json_quoted escapes quotes, backslashes and control characters", "[json_quote]") {
  CHECK(quote("\"").text == R"("\"")");
  CHECK(quote("\\").text == R"("\\")");
  CHECK(quote("a\"b\\c").text == R"("a\"b\\c")");
  CHECK(quote("\n\r\t\b\f").text == R"("\n\r\t\b\f")");
  CHECK(quote(bytes("\0")).text == R"("\u0000")");
  CHECK(quote("\x01\x1f").text == R"("\u0001\u001f")");
  CHECK(quote("\x0b").text == R"("\u000b")");
  CHECK(quote("\x1b[31mred\x1b[0m").text == R"("\u001b[31mred\u001b[0m")");
  CHECK(quote("\\u0041").text == R"("\\u0041")");  // stays text, not an escape
  CHECK(quote("line\r").text == R"("line\r")");

  std::string all_controls;
  for (int c = 0; c < 0x20; ++c) all_controls += static_cast<char>(c);
  const Quoted q = quote(all_controls);
  CHECK(q.replacements == 0);
  CHECK_FALSE(check_json(q.text));
  CHECK(q.text.find_first_of(all_controls) == std::string::npos);
}

TEST_CASE("append_json_quoted replaces each maximal ill-formed subpart", "[json_quote]") {
  struct Case {
    std::string raw;
    std::string quoted;  ///< without the surrounding quotes
    size_t replacements;
  };
  const Case cases[] = {
      {"\xFF", kFffd, 1},
      {"\x80", kFffd, 1},
      {"a\x80\x80z", "a" + kFffd + kFffd + "z", 2},          // each stray continuation byte
      {"\xC3", kFffd, 1},                                     // truncated at the end
      {"\xC3(", kFffd + "(", 1},
      {"\xE2\x82", kFffd, 1},                                 // one subpart, one U+FFFD
      {"\xE2\x82(", kFffd + "(", 1},
      {"\xF0\x9F\x98", kFffd, 1},
      {"\xF0\x9F\x98\"", kFffd + "\\\"", 1},
      {"\xC0\xAF", kFffd + kFffd, 2},                         // C0 can never start a sequence
      {"\xE0\x80\xAF", kFffd + kFffd + kFffd, 3},             // overlong: E0 needs A0..BF next
      {"\xED\xA0\x80", kFffd + kFffd + kFffd, 3},             // encoded surrogate
      {"\xF4\x90\x80\x80", kFffd + kFffd + kFffd + kFffd, 4}, // above U+10FFFF
      {"\xF5\x80", kFffd + kFffd, 2},
      {"\xE9t\xE9", kFffd + "t" + kFffd, 2},                  // Latin-1
      {"\xC3\xA9\xFF\xC3\xA9", "\xC3\xA9" + kFffd + "\xC3\xA9", 1},
      {"\xF0\x9F\x98\x80\xF0\x9F", "\xF0\x9F\x98\x80" + kFffd, 1},
  };
  for (const Case& c : cases) {
    INFO("raw bytes: " << c.raw.size());
    const Quoted q = quote(c.raw);
    CHECK(q.text == "\"" + c.quoted + "\"");
    CHECK(q.replacements == c.replacements);
    CHECK_FALSE(check_json(q.text));
  }
}

TEST_CASE("append_json_quoted output is always one valid JSON string", "[json_quote]") {
  SECTION("every single byte") {
    for (int b = 0; b < 256; ++b) {
      const std::string raw(1, static_cast<char>(b));
      const Quoted q = quote(raw);
      INFO("byte " << b);
      CHECK_FALSE(check_json(q.text));
      CHECK(q.replacements == (b >= 0x80 ? 1u : 0u));
    }
  }
  SECTION("every pair of bytes") {
    size_t failures = 0;
    for (int a = 0; a < 256; ++a) {
      for (int b = 0; b < 256; ++b) {
        const std::string raw = {static_cast<char>(a), static_cast<char>(b)};
        if (check_json(quote(raw).text)) ++failures;
      }
    }
    CHECK(failures == 0);
  }
  SECTION("pseudo-random byte strings") {
    uint32_t state = 12345;
    size_t failures = 0;
    for (int i = 0; i < 20000; ++i) {
      std::string raw;
      const size_t length = i % 40;
      for (size_t j = 0; j < length; ++j) {
        state = state * 1664525u + 1013904223u;
        raw += static_cast<char>(state >> 24);
      }
      if (check_json(quote(raw).text)) ++failures;
    }
    CHECK(failures == 0);
  }
  SECTION("invalid JSON lines become valid JSON strings") {
    for (const char* raw : {"{\"a\":1,}", "[1 2]", "\"unterminated", "\\", "tru", "{'a':\t1}"}) {
      INFO(raw);
      CHECK_FALSE(check_json(quote(raw).text));
    }
  }
}

TEST_CASE("append_json_quoted handles long lines", "[json_quote]") {
  std::string raw;
  for (int i = 0; i < 100000; ++i) raw += "plain text \xC3\xA9\t\"q\" \xFF ";
  const Quoted q = quote(raw);
  CHECK(q.replacements == 100000);
  CHECK_FALSE(check_json(q.text));
}
