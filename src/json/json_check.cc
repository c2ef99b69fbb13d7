#include "json/json_check.h"

#include <cstdint>
#include <vector>

#include "json/utf8.h"

namespace batchpipe {

namespace {

/// Byte length of the well-formed UTF-8 sequence starting at `pos`, or 0 when
/// the bytes there are not one.
size_t utf8_sequence_length(std::string_view text, size_t pos) {
  Utf8Step step = decode_utf8(text, pos);
  return step.valid ? step.length : 0;
}

/// RFC 8259 whitespace only: not \f, \v or any Unicode space.
bool is_json_whitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// Value of one hex digit, or -1.
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// One pass over the text with an explicit stack of open containers, so input
/// nesting never grows the C++ stack and every byte is looked at a bounded
/// number of times (linear time).
class Checker {
 public:
  Checker(std::string_view text, size_t max_depth) : text_(text), max_depth_(max_depth) {}

  std::optional<JsonError> run();

 private:
  /// What the caller of parse_value() accepts instead of a value, which only
  /// changes the message when no value is there.
  enum class ValueContext { top, array_first, array_next, object_member };

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }
  void skip_whitespace() {
    while (!at_end() && is_json_whitespace(peek())) ++pos_;
  }

  /// Records the first problem; a non-ASCII byte that is not valid UTF-8 is
  /// reported as such, since that is the more basic fault.
  bool fail(size_t offset, std::string reason);

  /// Parses one scalar or opens one container (pushing it on `open_`).
  bool parse_value(ValueContext context);
  /// Parses the string whose opening quote is at `pos_`.
  bool parse_string();
  /// Parses the 4 hex digits of a \u escape whose backslash is at `escape_at`,
  /// leaving `pos_` after them.
  bool parse_hex4(size_t escape_at, uint32_t& code_unit);
  bool parse_number();
  bool parse_literal(std::string_view word);
  /// Parses `"key" ws :` with `pos_` at the key (after whitespace).
  bool parse_member_key(const char* missing_key_reason);
  /// At least one digit, else the number is cut short.
  bool parse_digits();

  std::string_view text_;
  size_t max_depth_;
  size_t pos_ = 0;
  std::vector<char> open_;  ///< '[' or '{' for each container not yet closed
  std::optional<JsonError> error_;
};

bool Checker::fail(size_t offset, std::string reason) {
  if (offset < text_.size() && static_cast<unsigned char>(text_[offset]) >= 0x80 &&
      utf8_sequence_length(text_, offset) == 0) {
    reason = "invalid UTF-8";
  }
  error_ = JsonError{offset, std::move(reason)};
  return false;
}

std::optional<JsonError> Checker::run() {
  skip_whitespace();
  if (at_end()) {
    fail(pos_, "empty line");
    return error_;
  }
  if (!parse_value(ValueContext::top)) return error_;
  for (;;) {
    skip_whitespace();
    if (open_.empty()) {
      if (!at_end()) fail(pos_, "trailing characters after the value");
      return error_;
    }
    const char container = open_.back();
    const char close = container == '[' ? ']' : '}';
    if (at_end() || (peek() != ',' && peek() != close)) {
      fail(pos_, container == '[' ? "expected ',' or ']'" : "expected ',' or '}'");
      return error_;
    }
    if (peek() == close) {
      ++pos_;
      open_.pop_back();
      continue;
    }
    ++pos_;  // ','
    skip_whitespace();
    if (container == '{' && !parse_member_key("expected string key")) return error_;
    const auto context = container == '[' ? ValueContext::array_next : ValueContext::object_member;
    if (!parse_value(context)) return error_;
  }
}

bool Checker::parse_value(ValueContext context) {
  // Opening a container is followed directly by its first value, so loop
  // here rather than returning for each '[' or '{'.
  for (;;) {
    skip_whitespace();
    if (at_end()) {
      return fail(pos_, context == ValueContext::array_first ? "expected value or ']'"
                                                             : "expected value");
    }
    const char c = peek();
    if (c == '[' || c == '{') {
      if (open_.size() >= max_depth_) {
        return fail(pos_, "nesting deeper than " + std::to_string(max_depth_));
      }
      open_.push_back(c);
      ++pos_;
      skip_whitespace();
      const char close = c == '[' ? ']' : '}';
      if (!at_end() && peek() == close) {
        ++pos_;
        open_.pop_back();
        return true;
      }
      if (c == '{') {
        if (!parse_member_key("expected string key or '}'")) return false;
        context = ValueContext::object_member;
      } else {
        context = ValueContext::array_first;
      }
      continue;
    }
    if (c == '"') return parse_string();
    if (c == '-' || is_digit(c)) return parse_number();
    if (c == 't') return parse_literal("true");
    if (c == 'f') return parse_literal("false");
    if (c == 'n') return parse_literal("null");
    return fail(pos_, context == ValueContext::array_first ? "expected value or ']'"
                                                           : "expected value");
  }
}

bool Checker::parse_member_key(const char* missing_key_reason) {
  if (at_end() || peek() != '"') return fail(pos_, missing_key_reason);
  if (!parse_string()) return false;
  skip_whitespace();
  if (at_end() || peek() != ':') return fail(pos_, "expected ':'");
  ++pos_;
  return true;
}

bool Checker::parse_hex4(size_t escape_at, uint32_t& code_unit) {
  code_unit = 0;
  for (int i = 0; i < 4; ++i, ++pos_) {
    const int digit = at_end() ? -1 : hex_value(peek());
    if (digit < 0) return fail(escape_at, "invalid \\u escape");
    code_unit = code_unit * 16 + static_cast<uint32_t>(digit);
  }
  return true;
}

// Lone surrogates: RFC 8259 section 8.2 lets the grammar accept "\uD800" but
// leaves its meaning undefined. simdjson 3.0 (the fast path) rejects every
// escaped surrogate that is not a high one directly followed by an escaped low
// one, and this checker rejects exactly the same strings, so whether a line is
// valid never depends on which of the two validators looked at it.
bool Checker::parse_string() {
  ++pos_;
  for (;;) {
    if (at_end()) return fail(pos_, "unterminated string");
    const auto c = static_cast<unsigned char>(peek());
    if (c == '"') {
      ++pos_;
      return true;
    }
    if (c < 0x20) return fail(pos_, "control character in string");
    if (c >= 0x80) {
      const size_t length = utf8_sequence_length(text_, pos_);
      if (length == 0) return fail(pos_, "invalid UTF-8");
      pos_ += length;
      continue;
    }
    if (c != '\\') {
      ++pos_;
      continue;
    }
    const size_t escape_at = pos_;
    ++pos_;
    if (at_end()) return fail(pos_, "unterminated string");
    const char kind = peek();
    ++pos_;
    switch (kind) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        continue;
      case 'u':
        break;
      default:
        return fail(escape_at, "invalid escape");
    }
    uint32_t unit = 0;
    if (!parse_hex4(escape_at, unit)) return false;
    if (unit >= 0xDC00 && unit <= 0xDFFF) return fail(escape_at, "unpaired surrogate escape");
    if (unit < 0xD800 || unit > 0xDBFF) continue;
    // A high surrogate must be followed at once by an escaped low one.
    if (text_.substr(pos_, 2) != "\\u") return fail(escape_at, "unpaired surrogate escape");
    const size_t low_at = pos_;
    pos_ += 2;
    uint32_t low = 0;
    if (!parse_hex4(low_at, low)) return false;
    if (low < 0xDC00 || low > 0xDFFF) return fail(escape_at, "unpaired surrogate escape");
  }
}

bool Checker::parse_digits() {
  if (at_end() || !is_digit(peek())) return fail(pos_, "expected digit");
  while (!at_end() && is_digit(peek())) ++pos_;
  return true;
}

// RFC 8259: number = [ "-" ] int [ frac ] [ exp ], int = "0" / digit1-9 *DIGIT.
// No limit on the number of digits: range is not part of validity here.
bool Checker::parse_number() {
  if (peek() == '-') ++pos_;
  if (!at_end() && peek() == '0') {
    ++pos_;
    if (!at_end() && is_digit(peek())) return fail(pos_ - 1, "leading zero in number");
  } else if (!parse_digits()) {
    return false;
  }
  if (!at_end() && peek() == '.') {
    ++pos_;
    if (!parse_digits()) return false;
  }
  if (!at_end() && (peek() == 'e' || peek() == 'E')) {
    ++pos_;
    if (!at_end() && (peek() == '+' || peek() == '-')) ++pos_;
    if (!parse_digits()) return false;
  }
  return true;
}

bool Checker::parse_literal(std::string_view word) {
  if (text_.substr(pos_, word.size()) != word) return fail(pos_, "invalid literal");
  pos_ += word.size();
  return true;
}

}  // namespace

std::optional<JsonError> check_json(std::string_view text, size_t max_depth) {
  return Checker(text, max_depth).run();
}

}  // namespace batchpipe
