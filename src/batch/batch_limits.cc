#include "batch/batch_limits.h"

#include <algorithm>

#include "base/memory.h"

namespace batchpipe {

void reserve_fresh(Batch& b, const BatchLimits& limits) {
  if (limits.bytes >= kMappedBytes) b.bytes.reserve(limits.bytes);
  // Each record takes two bytes of the body at least.
  uint64_t ends = std::min<uint64_t>(limits.records, limits.bytes / 2 + 1);
  if (ends * sizeof(uint32_t) >= kMappedBytes) b.ends.reserve(ends);
}

}  // namespace batchpipe
