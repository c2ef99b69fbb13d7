// Where a framed line lies in its block.
#pragma once

#include <cstdint>

namespace batchpipe {

/// A trimmed, non-blank line inside a block.
struct LineSpan {
  uint32_t offset = 0;
  uint32_t size = 0;
  uint32_t line = 0;  ///< the line's number, counted from its block's first line
};

}  // namespace batchpipe
