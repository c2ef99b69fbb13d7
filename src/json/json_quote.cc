#include "json/json_quote.h"

#include <array>

#include "json/utf8.h"

namespace batchpipe {

namespace {

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
