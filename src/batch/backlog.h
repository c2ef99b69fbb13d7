// The one byte budget (--max-buffer): records read but not yet committed,
// from the open batch to the last one in flight, counted in bytes in one
// place. Pure and single-threaded: the loop charges records as it batches
// them and credits whole batches when the sink is done with them.
#pragma once

#include <cstdint>

#include "batch/batch_encoder.h"

namespace batchpipe {

/// What one record of `size` bytes costs the budget in a batch laid out as
/// `f`: its bytes, what the format puts around it, and its bookkeeping in the
/// Batch (its end offset and a little slack).
inline uint64_t record_cost(uint64_t size, const BodyFormat& f = BodyFormat::plain_array()) {
  return size + f.separator().size() + f.before_size() + f.after().size() + 8;
}

/// What a closed batch holds against the budget: the sum of record_cost()
/// over its records (its body less the format's opening and closing bytes,
/// plus bookkeeping; the first record's missing separator counted as theirs).
inline uint64_t batch_cost(const Batch& b) {
  const BodyFormat& f = *b.format;
  return b.records ? b.bytes.size() - f.open().size() - f.close().size() + f.separator().size() + 8 * b.records : 0;
}

class Backlog {
 public:
  explicit Backlog(uint64_t budget) : budget_(budget) {}

  /// True when `cost` more bytes stay within the budget.
  bool fits(uint64_t cost) const { return used_ + outside_ + cost <= budget_; }
  /// True when nothing more should be read until something is committed.
  bool full() const { return used_ + outside_ >= budget_; }
  /// Bytes held elsewhere that the budget must leave room for (--map answers).
  void hold_outside(uint64_t bytes) { outside_ = bytes; }

  void charge(uint64_t cost, uint64_t records) {
    used_ += cost;
    records_ += records;
  }
  void credit(uint64_t cost, uint64_t records) {
    used_ -= cost < used_ ? cost : used_;
    records_ -= records < records_ ? records : records_;
  }

  uint64_t used() const { return used_ + outside_; }
  uint64_t records() const { return records_; }
  uint64_t budget() const { return budget_; }

 private:
  uint64_t budget_;
  uint64_t used_ = 0;
  uint64_t outside_ = 0;
  uint64_t records_ = 0;
};

}  // namespace batchpipe
