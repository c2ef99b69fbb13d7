// Confirming lines as JSON texts from simdjson's first pass alone.
//
// simdjson's stage 1 checks a window's UTF-8, finds every unescaped control
// character inside a string and indexes where each token starts; its stage 2
// then builds a document (a tape, every string unescaped and copied) that
// validation never reads, and that was a third of batchpipe's CPU on log
// lines. Here a small walk over the index checks the grammar instead, and
// each token where it lies: string escapes, number syntax, true/false/null.
//
// It only ever says "valid" or "not sure": a line it does not confirm (an
// error, a lone surrogate escape, deep nesting, a first pass that failed)
// is judged again by the full parser, which decides and explains, so the
// results are exactly those of LineValidator's other paths.
//
// Uses simdjson 3.0's implementation interface (create_dom_parser_implementation,
// stage1), which the library exports for this kind of use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <simdjson.h>

#include "json/line_span.h"

namespace batchpipe {

class StructuralValidator {
 public:
  /// Windows of at most `capacity` bytes; nothing is allocated until first used.
  explicit StructuralValidator(size_t capacity);

  size_t capacity() const { return capacity_; }

  /// For `lines` (in increasing order) lying in one window of at most
  /// capacity() bytes of `data`, which stays readable for SIMDJSON_PADDING
  /// bytes past the last line: sets confirmed[k] for each line k it vouches
  /// for, clears the others. Returns false, confirming none, when the first
  /// pass over the window failed (invalid UTF-8, a string left open, a raw
  /// control character in a string) or could not be run.
  bool confirm(const char* data, std::span<const LineSpan> lines, std::vector<uint8_t>& confirmed);

 private:
  size_t capacity_;
  std::unique_ptr<simdjson::internal::dom_parser_implementation> stage1_;
};

}  // namespace batchpipe
