#include "json/structural_validator.h"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace batchpipe {
namespace {

/// Deeper lines are left to the full parser (which allows 1024 levels).
constexpr size_t kMaxDepth = 256;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Stage 1 starts a token at every operator, opening quote, and non-space
// byte after a space, operator or closing quote; so a token's own bytes end
// at the first space or at the next token, and only spaces lie between.

/// `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?` from `at`, then
/// nothing but the next token (at `next`) or a space. Any size: the full
/// parser accepts numbers beyond double range too.
bool number_ok(const char* base, size_t at, size_t next) {
  const char* p = base + at;
  const char* e = base + next;
  if (*p == '-') ++p;
  if (p == e || !is_digit(*p)) return false;
  if (*p++ != '0')
    while (p < e && is_digit(*p)) ++p;
  if (p < e && *p == '.') {
    const char* digits = ++p;
    while (p < e && is_digit(*p)) ++p;
    if (p == digits) return false;
  }
  if (p < e && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < e && (*p == '+' || *p == '-')) ++p;
    const char* digits = p;
    while (p < e && is_digit(*p)) ++p;
    if (p == digits) return false;
  }
  return p == e || is_space(*p);
}

/// true, false or null at `at`, ending there.
bool word_ok(const char* base, size_t at, size_t next, std::string_view word) {
  return next - at >= word.size() && std::memcmp(base + at, word.data(), word.size()) == 0 &&
         (at + word.size() == next || is_space(base[at + word.size()]));
}

/// The backslashes of a window, found one memchr at a time as the walk goes
/// forward: most windows have none, and one call per string would cost more
/// than the rest of the walk.
class Backslashes {
 public:
  Backslashes(const char* begin, const char* end) : end_(end), next_(find(begin)) {}
  /// The first backslash at or after `from` (which never goes backwards), or nullptr.
  const char* from(const char* at) {
    if (next_ != nullptr && next_ < at) next_ = find(at);
    return next_;
  }

 private:
  const char* find(const char* at) const {
    return static_cast<const char*>(std::memchr(at, '\\', static_cast<size_t>(end_ - at)));
  }
  const char* end_;
  const char* next_;
};

/// The escapes of the string between `p` (just after its opening quote) and
/// `end` (its closing quote). A surrogate escape goes to the full parser,
/// which judges pairs.
bool escapes_ok(const char* p, const char* end) {
  for (; (p = static_cast<const char*>(std::memchr(p, '\\', static_cast<size_t>(end - p)))) != nullptr;) {
    if (end - p < 2) return false;
    switch (p[1]) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        p += 2;
        break;
      case 'u': {
        if (end - p < 6) return false;
        int code = 0;
        for (int i = 2; i < 6; ++i) {
          int h = hex_value(p[i]);
          if (h < 0) return false;
          code = code * 16 + h;
        }
        if (code >= 0xD800 && code <= 0xDFFF) return false;
        p += 6;
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

/// The string whose opening quote is at `at`. Stage 1 has found its closing
/// quote on the same line, checked its UTF-8 and that no control character
/// is left raw in it; what remains is its escapes, if it has a backslash.
bool string_ok(const char* base, size_t at, size_t next, Backslashes& backslashes) {
  const char* backslash = backslashes.from(base + at + 1);
  if (backslash == nullptr || backslash >= base + next) return true;
  const char* close = base + next - 1;
  while (is_space(*close)) --close;
  return close > base + at && *close == '"' && escapes_ok(base + at + 1, close);
}

bool scalar_ok(const char* base, size_t at, size_t next, Backslashes& backslashes) {
  switch (base[at]) {
    case '"': return string_ok(base, at, next, backslashes);
    case 't': return word_ok(base, at, next, "true");
    case 'f': return word_ok(base, at, next, "false");
    case 'n': return word_ok(base, at, next, "null");
    default: return number_ok(base, at, next);
  }
}

/// The grammar walk over one line, from token `p`, which starts the line;
/// `end` is the offset just past the line. Stage 1 ends its index with the
/// window's length, so every token from p on up to that one can be read, and
/// a token at `end` or later is not on this line. True if the line is one
/// JSON text, with `p` then at the first token after it; false if it is not
/// or the walk is not sure.
bool walk_json_line(const char* base, size_t end, const uint32_t* index, size_t& p, Backslashes& backslashes) {
  enum class Want { Value, Key, AfterValue };
  bool in_object[kMaxDepth];
  size_t depth = 0;
  auto scalar = [&](size_t i) { return scalar_ok(base, index[i], std::min<size_t>(index[i + 1], end), backslashes); };
  auto on_line = [&](size_t i) { return index[i] < end; };
  Want want = Want::Value;
  for (;;) {  // each step consumes at least one token
    switch (want) {
      case Want::Value: {  // on_line(p)
        char c = base[index[p]];
        if (c == '{' || c == '[') {
          if (depth == kMaxDepth || !on_line(++p)) return false;
          in_object[depth++] = c == '{';
          if (base[index[p]] == (c == '{' ? '}' : ']')) {
            ++p;
            --depth;
            want = Want::AfterValue;
          } else {
            want = c == '{' ? Want::Key : Want::Value;
          }
          break;
        }
        if (c == '}' || c == ']' || c == ',' || c == ':' || !scalar(p)) return false;
        ++p;
        want = Want::AfterValue;
        break;
      }
      case Want::Key:  // on_line(p)
        if (base[index[p]] != '"' || !scalar(p)) return false;
        if (!on_line(++p) || base[index[p]] != ':' || !on_line(++p)) return false;
        want = Want::Value;
        break;
      case Want::AfterValue: {
        if (depth == 0) return !on_line(p);
        if (!on_line(p)) return false;
        char c = base[index[p++]];
        if (c == ',') {
          if (!on_line(p)) return false;
          want = in_object[depth - 1] ? Want::Key : Want::Value;
        } else if (c == (in_object[depth - 1] ? '}' : ']')) {
          --depth;
        } else {
          return false;
        }
        break;
      }
    }
  }
}

}  // namespace

StructuralValidator::StructuralValidator(size_t capacity) : capacity_(capacity) {}

bool StructuralValidator::confirm(const char* data, std::span<const LineSpan> lines,
                                  std::vector<uint8_t>& confirmed) {
  confirmed.assign(lines.size(), 0);
  if (lines.empty()) return true;
  const size_t begin = lines.front().offset;
  const size_t len = lines.back().offset + lines.back().size - begin;
  if (len > capacity_) return false;
  if (!stage1_) {
    const simdjson::implementation* impl = simdjson::get_active_implementation();
    if (impl->create_dom_parser_implementation(capacity_, kMaxDepth, stage1_) != simdjson::SUCCESS) {
      stage1_.reset();
      return false;
    }
  }
  const char* window = data + begin;
  if (stage1_->stage1(reinterpret_cast<const uint8_t*>(window), len, simdjson::stage1_mode::regular) !=
      simdjson::SUCCESS)
    return false;
  const uint32_t* index = stage1_->structural_indexes.get();
  // index[n_structural_indexes] == len: every loop below stops there at the latest.
  Backslashes backslashes(window, window + len);
  size_t p = 0;
  for (size_t k = 0; k < lines.size(); ++k) {
    const size_t start = lines[k].offset - begin;
    const size_t end = start + lines[k].size;
    while (index[p] < start) ++p;
    confirmed[k] = index[p] == start && walk_json_line(window, end, index, p, backslashes);
  }
  return true;
}

}  // namespace batchpipe
