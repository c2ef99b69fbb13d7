#include "input/input_block.h"

#include <algorithm>
#include <cstring>

namespace batchpipe {

uint64_t InputBlock::line_offset(const LineSpan& span) const {
  // Only blanks (and a BOM) lie between a line's start and its record.
  size_t p = span.offset;
  while (p > 0 && buffer[p - 1] != '\n') --p;
  return offset + p + (p > 0 ? skew : 0);
}

uint64_t InputBlock::line_end(const LineSpan& span) const {
  size_t p = span.offset + span.size;
  const void* nl = std::memchr(buffer.data() + p, '\n', framed > p ? framed - p : 0);
  p = nl ? static_cast<size_t>(static_cast<const char*>(nl) - buffer.data()) + 1 : std::max<size_t>(p, framed);
  return offset + p + skew;
}

}  // namespace batchpipe
