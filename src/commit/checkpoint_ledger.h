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
#include <set>
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
  /// An input's first file is its position at once (no record of the input
  /// came before it); a later one once the records before it are committed.
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

  /// Routing by field: batches of different keys close, and commit, out of
  /// input order. The ledger then moves positions only past records with
  /// no batch left open or uncommitted: the loop says when a batch goes to
  /// the sink (handed()) and, through advance(), the input-order number of
  /// the first record the batcher still holds. Positions then move at the
  /// ends of read blocks (and at the end of the input), not per batch.
  void set_out_of_order() { out_of_order_ = true; }
  /// Out of order: `batch` went to the sink and is not committed yet.
  void handed(const Batch& batch) {
    if (out_of_order_ && !frozen_) outstanding_.insert(batch.first_seq);
  }
  /// Out of order: records numbered below `batcher_held` have left the
  /// batcher; with the batches handed and not yet committed, that says how
  /// far positions may move.
  void advance(uint64_t batcher_held);

  /// True if `input` has a position to record.
  bool known(uint32_t input) const { return known_[input]; }
  const ResumePoint& position(uint32_t input) const { return saved_[input]; }
  /// Whether a position moved since the last take_changed().
  bool take_changed() { return std::exchange(changed_, false); }
  /// Whether a position moved to another file (or an input's first) since
  /// the last take_new_file(): the checkpoint must name it before a record
  /// of it is delivered, or a crash leaves a checkpoint that does not know
  /// the file, and the next run reads whatever the name then leads to.
  bool take_new_file() { return std::exchange(new_file_, false); }
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
  bool new_file_ = false;
  bool out_of_order_ = false;
  std::set<uint64_t> outstanding_;  ///< out of order: first_seq of each batch handed and not committed
  uint64_t batcher_held_ = 0;       ///< out of order: the last advance()
};

}  // namespace batchpipe
