// Decoding UTF-8 one sequence at a time, strictly (Unicode Table 3-7).
#pragma once

#include <cstddef>
#include <string_view>

namespace batchpipe {

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
inline Utf8Step decode_utf8(std::string_view raw, size_t pos) {
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

}  // namespace batchpipe
