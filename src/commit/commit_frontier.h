// How far, in input order, every record is committed when batches commit out
// of input order (routing by field: batches of different keys close when
// their key's rules say). For the --spool: a segment may only go once every
// record in it is committed, whatever key it went to. Pure and
// single-threaded (the loop's): the loop marks where each block of input
// ends and how many records came before that end, says when a batch goes to
// the sink and when the commit step is done with it, and asks, with the
// first record the batcher still holds, how far is safe.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <set>

namespace batchpipe {

class CommitFrontier {
 public:
  /// A block of input ended at `end` (an offset in the input's stream);
  /// `records` records were added to the batcher before that end.
  void consumed(uint64_t records, uint64_t end) { marks_.push_back({records, end}); }
  /// A batch whose first record is `first_seq` went to the sink.
  void handed(uint64_t first_seq) { outstanding_.insert(first_seq); }
  /// The commit step is done with that batch (delivered, dead-lettered or not).
  void committed(uint64_t first_seq) {
    auto it = outstanding_.find(first_seq);
    if (it != outstanding_.end()) outstanding_.erase(it);
  }
  /// With `batcher_held` the input-order number of the first record the
  /// batcher still holds (open or closed, not handed): the offset before
  /// which every record is committed, if it moved since the last call.
  std::optional<uint64_t> advance(uint64_t batcher_held) {
    uint64_t safe = outstanding_.empty() ? batcher_held : std::min(batcher_held, *outstanding_.begin());
    std::optional<uint64_t> moved;
    while (!marks_.empty() && marks_.front().records <= safe) {
      moved = marks_.front().end;
      marks_.pop_front();
    }
    return moved;
  }

 private:
  struct Mark {
    uint64_t records;
    uint64_t end;
  };
  std::deque<Mark> marks_;
  std::multiset<uint64_t> outstanding_;  ///< first_seq of each batch handed and not yet committed
};

}  // namespace batchpipe
