// The byte budget (--max-buffer) as the input thread sees it. The loop
// counts every byte held (batch/backlog.h), but the input thread fills read
// blocks, and grows one for a line longer than a block, before the loop
// sees them: each block and each growth asks here first, and waits until it
// fits the budget or nothing else holds a record (a record larger than what
// is left of the budget is taken alone, as the loop takes it). What the input thread holds outside
// the blocks it has handed out (the block being filled, the part of a line
// carried to the next block) is told here too, for the loop to count.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "input/block_queue.h"

namespace batchpipe {

class ReadRoom {
 public:
  /// `waits`: false with --on-full drop, where the loop drops what does not
  /// fit and the reader never waits (a long line is then read whole).
  /// `queue`'s blocks, published and not yet released, count as held and as
  /// records (read live: the loop may be asleep while they pile up).
  ReadRoom(uint64_t budget, bool waits, const BlockQueue* queue = nullptr);
  ~ReadRoom();
  ReadRoom(const ReadRoom&) = delete;
  ReadRoom& operator=(const ReadRoom&) = delete;

  // The loop.
  /// What everything but the input side (the reader and the queue) holds
  /// now, and whether any of it is a record.
  void others(uint64_t bytes, bool records_held);
  /// Ends every wait, now and later.
  void stop();
  /// Readable once the input thread has started to wait (the loop then
  /// counts the budget as spent and closes what it must); the loop drains it.
  int fd() const { return fd_; }
  /// The bytes the input thread waits for; 0 when it is not waiting.
  uint64_t wanted() const;

  // The input thread.
  /// What it holds now outside the blocks it handed out.
  void holding(uint64_t bytes);
  /// Waits until `more` bytes on top of what it holds fit the budget, or no
  /// record is held elsewhere. False once stop() was called.
  bool wait_for(uint64_t more);
  /// Waits until `least` bytes fit (as wait_for()), then says how many of
  /// `most` do: a block is filled up to what is left of the budget, so that
  /// reading stops with the budget held, not a block short of it.
  uint64_t grant(uint64_t least, uint64_t most);

  // Either.
  uint64_t held() const;

 private:
  /// What everything holds now, and whether any of it is a record (under mutex_).
  struct Level {
    uint64_t used;
    bool records;
  };
  Level level() const {
    uint64_t queued = queue_ ? queue_->held_bytes() : 0;
    return {others_ + queued + held_, records_held_ || queued > 0};
  }
  bool fits(uint64_t more) const {
    Level l = level();
    return !l.records || l.used + more <= budget_;
  }

  const uint64_t budget_;
  const bool waits_;
  const BlockQueue* queue_;
  int fd_ = -1;
  uint64_t wanted_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t others_ = 0;
  uint64_t held_ = 0;
  bool records_held_ = false;
  bool stopped_ = false;
};

}  // namespace batchpipe
