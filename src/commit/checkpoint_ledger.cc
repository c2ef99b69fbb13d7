#include "commit/checkpoint_ledger.h"

#include <algorithm>

namespace batchpipe {

void CheckpointLedger::began(uint32_t input, const FileIdentity& identity, uint64_t offset, uint64_t line) {
  if (frozen_ || !identity.regular || input >= saved_.size()) return;  // frozen: nothing will move, keep nothing
  Mark m{added_, input, true, identity, offset, line};
  if (!known_[input] && std::none_of(marks_.begin(), marks_.end(), [&](const Mark& k) { return k.input == input; })) {
    apply(m);  // its first file: no record of the input is in flight, whatever other inputs' are
    return;
  }
  marks_.push_back(m);
  drain(true);
}

void CheckpointLedger::consumed(uint32_t input, const FileIdentity& identity, uint64_t end, uint64_t line) {
  if (frozen_ || !identity.regular || input >= saved_.size()) return;
  if (!marks_.empty() && !marks_.back().begins && marks_.back().input == input && marks_.back().records == added_) {
    marks_.back().identity = identity;  // no record since: one mark for both
    marks_.back().offset = end;
    marks_.back().line = line;
  } else {
    marks_.push_back({added_, input, false, identity, end, line});
  }
  drain(true);
}

void CheckpointLedger::committed(const Batch& batch, bool settled) {
  if (frozen_) return;
  if (!settled) {
    frozen_ = true;
    marks_.clear();
    return;
  }
  if (out_of_order_) {
    outstanding_.erase(batch.first_seq);
    advance(batcher_held_);
    return;
  }
  committed_ += batch.records;
  // The batch's last record is record number committed_: marks before it
  // (a file that began before it) apply first, then the record, then the
  // marks right after it (the end of its block, a file that begins next).
  drain(false);
  const Position& last = batch.last;
  if (batch.records && last.input < saved_.size() && known_[last.input]) {
    ResumePoint& p = saved_[last.input];
    if (last.end > p.offset) {
      p.offset = last.end;
      p.line = last.line;
      changed_ = true;
    }
  }
  drain(true);
}

void CheckpointLedger::advance(uint64_t batcher_held) {
  if (frozen_ || !out_of_order_) return;
  batcher_held_ = batcher_held;
  // Every record numbered below this is committed: the marks up to it
  // (block ends, files that begin) hold positions that lose nothing.
  uint64_t low = outstanding_.empty() ? batcher_held : std::min(batcher_held, *outstanding_.begin());
  if (low > committed_) committed_ = low;
  drain(true);
}

void CheckpointLedger::drain(bool through) {
  if (frozen_) return;
  while (!marks_.empty() && (marks_.front().records < committed_ || (through && marks_.front().records == committed_))) {
    apply(marks_.front());
    marks_.pop_front();
  }
}

void CheckpointLedger::apply(const Mark& m) {
  ResumePoint& p = saved_[m.input];
  if (m.begins || !known_[m.input]) {
    new_file_ = new_file_ || !known_[m.input] || !p.identity.same_file(m.identity);
    p = {m.identity, m.offset, m.line};
    known_[m.input] = true;
  } else {
    p.identity = m.identity;
    p.offset = std::max(p.offset, m.offset);
    p.line = std::max(p.line, m.line);
  }
  changed_ = true;
}

}  // namespace batchpipe
