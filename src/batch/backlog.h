// The one byte budget (--max-buffer), counted in one place: the memory that
// records read but not yet committed hold, from the read blocks and the open
// batch to the last batch in flight and the buffers a sink keeps for it,
// each counted by the pages its buffers actually hold (not the records'
// bytes: a buffer holds more than what was written into it). Pure and
// single-threaded: the loop sets each account as it changes.
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

/// Where the budget's bytes are held. Every figure is memory actually held
/// (buffer pages, see base/memory.h), except Unwritten.
enum class Held : unsigned {
  Batcher,      ///< the open batch, closed batches not yet handed out, spare buffers
  Sink,         ///< batches a sink holds: waiting for a worker, in flight, waiting for their commit
  Input,        ///< read blocks handed out by the input thread and not yet released
  SinkBuffers,  ///< a sink's own buffers: --map answers, compressed bodies, replies
  Unwritten,    ///< --checkpoint: committed records the checkpoint does not cover yet (their record_cost())
  Count
};

class Backlog {
 public:
  explicit Backlog(uint64_t budget) : budget_(budget) {}

  /// True when `cost` more bytes stay within the budget.
  bool fits(uint64_t cost) const { return used() + cost <= budget_; }
  /// True when nothing more should be read until something is committed.
  bool full() const { return used() >= budget_; }

  /// The figure of one account as it stands now.
  void set(Held where, uint64_t bytes) { held_[index(where)] = bytes; }
  void add(Held where, uint64_t bytes) { held_[index(where)] += bytes; }
  /// Never below zero.
  void remove(Held where, uint64_t bytes) {
    uint64_t& h = held_[index(where)];
    h -= bytes < h ? bytes : h;
  }
  uint64_t held(Held where) const { return held_[index(where)]; }

  /// Records read and not yet committed (for --metrics-file and --progress).
  void add_records(uint64_t n) { records_ += n; }
  void remove_records(uint64_t n) { records_ -= n < records_ ? n : records_; }

  uint64_t used() const {
    uint64_t sum = 0;
    for (uint64_t h : held_) sum += h;
    return sum;
  }
  uint64_t records() const { return records_; }
  uint64_t budget() const { return budget_; }

 private:
  static constexpr unsigned index(Held where) { return static_cast<unsigned>(where); }

  uint64_t budget_;
  uint64_t held_[static_cast<unsigned>(Held::Count)] = {};
  uint64_t records_ = 0;
};

}  // namespace batchpipe
