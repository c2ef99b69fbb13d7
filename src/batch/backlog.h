// The one byte budget (--max-buffer): records read but not yet committed,
// from the open batch to the last one in flight, counted in bytes in one
// place. Pure and single-threaded: the loop charges records as it batches
// them and credits whole batches when the sink is done with them.
#pragma once

#include <cstdint>

#include "batch/batch_encoder.h"

namespace batchpipe {

/// What one record of `size` bytes costs the budget: its bytes, its separator
/// and its bookkeeping in the Batch (its end offset and a little slack).
inline uint64_t record_cost(uint64_t size) { return size + 1 + 8; }

/// What a closed batch holds against the budget: the sum of record_cost()
/// over its records (its bytes less the brackets, plus bookkeeping).
inline uint64_t batch_cost(const Batch& b) { return b.records ? b.bytes.size() - 2 + 8 * b.records : 0; }

class Backlog {
 public:
  explicit Backlog(uint64_t budget) : budget_(budget) {}

  /// True when `cost` more bytes stay within the budget.
  bool fits(uint64_t cost) const { return used_ + cost <= budget_; }
  /// True when nothing more should be read until something is committed.
  bool full() const { return used_ >= budget_; }

  void charge(uint64_t cost, uint64_t records) {
    used_ += cost;
    records_ += records;
  }
  void credit(uint64_t cost, uint64_t records) {
    used_ -= cost < used_ ? cost : used_;
    records_ -= records < records_ ? records : records_;
  }

  uint64_t used() const { return used_; }
  uint64_t records() const { return records_; }
  uint64_t budget() const { return budget_; }

 private:
  uint64_t budget_;
  uint64_t used_ = 0;
  uint64_t records_ = 0;
};

}  // namespace batchpipe
