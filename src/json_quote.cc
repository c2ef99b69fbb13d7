#include "json_quote.h"

#include <array>

namespace batchpipe {

namespace {

/// How the UTF-8 decoder sees the bytes at one position.
struct Utf8Step {
  size_t length;  ///< bytes consumed: the whole sequence, or the ill-formed part
  bool valid;
};

/// Decodes the sequence starting at `pos` (Unicode Table 3-7: no overlongs,
/// no encoded surrogates, nothing above U+10FFFF). An ill-formed sequence
/// consumes its maximal subpart (Unicode 15 section 3.9, "U+FFFD Substitution
/// of Maximal Subparts"): the longest prefix that could still have begun a
/// well-formed sequence, and at least one byte. This is the rule of the WHATWG
/// encoding standard, so our output matches what browsers and Python's
/// errors="replace" make of the same bytes.
Utf8Step decode_utf8(std::string_view raw, size_t pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(raw[i]); };
  const unsigned char lead = byte(pos);
  if (lead < 0x80) return {1, true};
  size_t length = 0;
  unsigned char second_lo = 0x80;
  unsigned char second_hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_lo = 0xA0;
    if (lead == 0xED) second_hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_lo = 0x90;
    if (lead == 0xF4) second_hi = 0x8F;
  } else {
    return {1, false};
  }
  const size_t available = raw.size() - pos;
  if (available < 2 || byte(pos + 1) < second_lo || byte(pos + 1) > second_hi) return {1, false};
  for (size_t i = 2; i < length; ++i) {
    if (i >= available || byte(pos + i) < 0x80 || byte(pos + i) > 0xBF) return {i, false};
  }
  return {length, true};
}

/// True for the ASCII bytes that go into a JSON string as they are; 0x7F is
/// valid unescaped JSON and is kept, everything >= 0x80 goes to the decoder.
constexpr std::array<bool, 256> kPlainAscii = [] {
  std::array<bool, 256> table{};
  for (int c = 0x20; c < 0x80; ++c) table[c] = c != '"' && c != '\\';
  return table;
}();

void append_escape(unsigned char c, std::string& out) {
  switch (c) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default: break;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
  out.append(escape, sizeof escape);
}

}  // namespace

size_t append_json_quoted(std::string_view raw, std::string& out) {
  out.reserve(out.size() + raw.size() + 2);
  out += '"';
  size_t replacements = 0;
  size_t run_start = 0;  // bytes [run_start, pos) are copied verbatim
  size_t pos = 0;
  while (pos < raw.size()) {
    const auto c = static_cast<unsigned char>(raw[pos]);
    if (kPlainAscii[c]) {
      ++pos;
      continue;
    }
    if (c >= 0x80) {
      const Utf8Step step = decode_utf8(raw, pos);
      if (step.valid) {
        pos += step.length;
        continue;
      }
      out.append(raw.data() + run_start, pos - run_start);
      out += "\xEF\xBF\xBD";
      ++replacements;
      pos += step.length;
      run_start = pos;
      continue;
    }
    out.append(raw.data() + run_start, pos - run_start);
    append_escape(c, out);
    ++pos;
    run_start = pos;
  }
  out.append(raw.data() + run_start, pos - run_start);
  out += '"';
  return replacements;
}

}  // namespace batchpipe
