// The hand-off between the input thread, the validation threads (if any) and
// the event loop: a fixed pool of blocks, so memory stays bounded and a slow
// sink slows reading down. Blocks leave in the order they were published,
// each only once validated when validation threads are at work.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "input/input_reader.h"

namespace batchpipe {

class BlockQueue {
 public:
  /// `validated`: blocks must be marked validated (see claim()) before pop()
  /// hands them out.
  BlockQueue(size_t pool_size, bool validated = false);
  ~BlockQueue();
  BlockQueue(const BlockQueue&) = delete;
  BlockQueue& operator=(const BlockQueue&) = delete;

  // Input thread.
  /// A free block to fill; waits while every block is in use.
  InputBlock* acquire();
  void publish(InputBlock* block);
  /// No more blocks will be published.
  void close();

  // Validation threads.
  /// The oldest published block no thread has claimed; waits for one. Null
  /// once the queue is closed (or stopped) and none is left to claim.
  InputBlock* claim();
  /// Marks a claimed block validated.
  void validated(InputBlock* block);
  /// Wakes and ends every claim(), whatever is left.
  void stop_claims();

  // Event loop.
  /// Readable while blocks are ready or the queue has been closed.
  int ready_fd() const { return event_fd_; }
  /// The oldest ready block (validated, if it must be), or null if none is
  /// ready now.
  InputBlock* pop();
  void release(InputBlock* block);
  /// True once closed and every block has been popped.
  bool finished();
  /// The bytes of the read blocks published and not yet released (for the
  /// --max-buffer budget): what the input thread has read ahead.
  uint64_t held_bytes() const { return held_; }

 private:
  void signal_ready();

  std::vector<std::unique_ptr<InputBlock>> pool_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::condition_variable claimable_;
  std::deque<InputBlock*> free_;
  std::deque<InputBlock*> ready_;   ///< published, in order
  size_t claimed_ = 0;              ///< of ready_'s front blocks, how many a thread has taken
  bool must_validate_ = false;
  bool closed_ = false;
  bool claims_stopped_ = false;
  int event_fd_ = -1;
  std::atomic<uint64_t> held_{0};
  std::unordered_map<const InputBlock*, uint64_t> counted_;  ///< under mutex_: what held_ counts for each block
};

}  // namespace batchpipe
