// How far each input may be recorded as done, given the batches committed so
// far. Pure and single-threaded (the loop's): the loop tells it, in input
// order, where each file begins, every record it hands to the batcher and
// where each block of input ends; the sink's commit step tells it, in batch
// order, how each batch ended. An input's position only ever covers records
// that were committed (or lines that were never records: blank, invalid,
// dropped), so resuming there loses nothing.
#pragma once

#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "batch/batch_encoder.h"
#include "input/resume.h"

namespace batchpipe {

class CheckpointLedger {
 public:
  explicit CheckpointLedger(size_t inputs) : saved_(inputs), known_(inputs, false) {}

  /// A file starts being read for `input` (at start-up, or after rotation),
  /// at `offset` with `line` lines before it. Non-regular inputs are ignored.
  void began(uint32_t input, const FileIdentity& identity, uint64_t offset, uint64_t line);
  /// One more record went to the batcher.
  void added() { ++added_; }
  /// Everything of `input` before `end` (`line` lines) has gone to the
  /// batcher or been skipped; `identity` may carry a longer fingerprint.
  void consumed(uint32_t input, const FileIdentity& identity, uint64_t end, uint64_t line);
  /// The next batch in batch order is done with. `settled`: delivered or
  /// dead-lettered; false: left for a later run (lost, or interrupted),
  /// after which nothing moves any more in this run.
  void committed(const Batch& batch, bool settled);

  /// True if `input` has a position to record.
  bool known(uint32_t input) const { return known_[input]; }
  const ResumePoint& position(uint32_t input) const { return saved_[input]; }
  /// Whether a position moved since the last take_changed().
  bool take_changed() { return std::exchange(changed_, false); }
  bool frozen() const { return frozen_; }

 private:
  struct Mark {
    uint64_t records;  ///< records added before the mark
    uint32_t input;
    bool begins;       ///< a file begins here (offset/line are its start)
    FileIdentity identity;
    uint64_t offset;
    uint64_t line;
  };
  void apply(const Mark& m);
  /// Applies the marks that `committed_` records cover (all of them if `through`, else only those strictly before).
  void drain(bool through);

  std::vector<ResumePoint> saved_;
  std::vector<bool> known_;
  std::deque<Mark> marks_;
  uint64_t added_ = 0;
  uint64_t committed_ = 0;
  bool frozen_ = false;
  bool changed_ = false;
};

}  // namespace batchpipe
