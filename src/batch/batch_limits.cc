#include "batch/batch_limits.h"

#include <algorithm>

#include "base/memory.h"

namespace batchpipe {

void reserve_fresh(Batch& b, const BatchLimits& limits) {
  b.bytes.reserve(std::min<uint64_t>(limits.bytes, kFirstBatchBytes));
  // Each record takes two bytes of the body at least.
  uint64_t ends = std::min<uint64_t>(limits.records, limits.bytes / 2 + 1);
  if (ends * sizeof(uint32_t) >= kMappedBytes) b.ends.reserve(ends);
}

void make_room(Batch& b, uint64_t more, const BatchLimits& limits) {
  if (b.bytes.size() + more > b.bytes.capacity() && b.bytes.capacity() < limits.bytes)
    b.bytes.reserve(std::max<uint64_t>(limits.bytes, b.bytes.size() + more));
}

}  // namespace batchpipe
