#include "metrics.h"

#include <algorithm>

namespace batchpipe {

void Histogram::observe(Duration d) {
  double seconds = std::chrono::duration<double>(d).count();
  size_t i = static_cast<size_t>(std::lower_bound(kBounds.begin(), kBounds.end(), seconds) - kBounds.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(std::max<int64_t>(d.count(), 0)), std::memory_order_relaxed);
}

uint64_t Histogram::cumulative(size_t i) const {
  uint64_t total = 0;
  for (size_t j = 0; j <= i && j < buckets_.size(); ++j) total += buckets_[j].load(std::memory_order_relaxed);
  return total;
}

}  // namespace batchpipe
