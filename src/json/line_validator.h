// Deciding which framed lines are valid JSON texts.
//
// The fast path runs simdjson's parse_many over a whole block and checks that
// documents and lines match one to one; anything it cannot vouch for is parsed
// line by line, and lines simdjson rejects are judged again by check_json,
// which accepts numbers beyond double range and explains the error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

namespace batchpipe {

/// A trimmed, non-blank line inside a block.
struct LineSpan {
  uint32_t offset = 0;
  uint32_t size = 0;
  uint32_t line = 0;  ///< the line's number, counted from its block's first line
};

struct LineProblem {
  size_t index = 0;    ///< into the spans passed to validate()
  std::string reason;  ///< e.g. "expected ',' or '}' at column 12"
};

/// Bytes that must be readable after the last byte of a block passed to validate().
inline constexpr size_t kValidatorPadding = simdjson::SIMDJSON_PADDING;

class LineValidator {
 public:
  /// `threaded`: parse_many may run its first pass on a thread of its own;
  /// off where validation already runs on several threads (--threads).
  explicit LineValidator(bool threaded = true);

  /// Appends to `problems`, in order, every line of `lines` that is not one
  /// JSON text. `data` must stay readable for kValidatorPadding bytes past
  /// `size`; the spans must be in increasing order and lie inside it.
  void validate(const char* data, size_t size, std::span<const LineSpan> lines,
                std::vector<LineProblem>& problems);

  /// Judges one line; nothing if valid, else the reason. `line` needs no padding.
  std::optional<std::string> check_line(std::string_view line);

 private:
  /// Like check_line, for a line with kValidatorPadding readable bytes after it.
  std::optional<std::string> check_padded(const char* data, size_t size);
  /// Runs parse_many from line `first` in windows of `window` bytes; returns
  /// how many lines it confirmed valid.
  size_t confirm_many(const char* data, std::span<const LineSpan> lines, size_t first, size_t window);

  simdjson::dom::parser parser_;
  simdjson::dom::parser stream_parser_;
  bool threaded_;
};

}  // namespace batchpipe
