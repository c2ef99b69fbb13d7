// Hints for input plainly of another shape than NDJSON: pretty-printed JSON
// (many invalid lines in a row that look like the parts of one document), or
// one JSON array spread over lines. Pure: lines in, at most one hint per
// input out. A hint, not a change of behaviour.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace batchpipe {

class ShapeHint {
 public:
  /// Invalid lines in a row, from the first line of an input, that make it
  /// look like pretty-printed JSON.
  static constexpr uint64_t kRun = 3;

  /// Looks at the next non-blank line of input `input` (named `name` in the
  /// hint); returns the hint the first time that input looks like one.
  std::optional<std::string> see(uint32_t input, const std::string& name, std::string_view line, bool invalid);

 private:
  uint32_t input_ = UINT32_MAX;
  char first_ = 0;          ///< first byte of the input's first line, if that line was invalid
  uint64_t run_ = 0;        ///< invalid lines in a row from the input's first line on
  bool done_ = false;       ///< hinted, or the input began with valid lines
};

}  // namespace batchpipe
