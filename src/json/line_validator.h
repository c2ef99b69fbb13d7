// Deciding which framed lines are valid JSON texts.
//
// The fast path checks a window of lines from simdjson's first pass alone
// (StructuralValidator). A window whose first pass fails goes through
// parse_many, checking that documents and lines match one to one; anything
// neither can vouch for is parsed line by line, and lines simdjson rejects are
// judged again by check_json, which accepts numbers beyond double range and
// explains the error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "json/line_span.h"
#include "json/structural_validator.h"

namespace batchpipe {

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
  /// validate() for one window by parse_many; problems are numbered from `first_index`.
  void validate_parsing(const char* data, std::span<const LineSpan> lines, size_t first_index,
                        std::vector<LineProblem>& problems);
  /// Runs parse_many from line `first` in windows of `window` bytes; returns
  /// how many lines it confirmed valid.
  size_t confirm_many(const char* data, std::span<const LineSpan> lines, size_t first, size_t window);

  StructuralValidator structural_;
  std::vector<uint8_t> confirmed_;
  simdjson::dom::parser parser_;
  simdjson::dom::parser stream_parser_;
  bool threaded_;
};

}  // namespace batchpipe
