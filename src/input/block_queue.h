// The hand-off between the input thread and the event loop: a fixed pool of
// blocks, so memory stays bounded and a slow sink slows reading down.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "input/input_reader.h"

namespace batchpipe {

class BlockQueue {
 public:
  explicit BlockQueue(size_t pool_size);
  ~BlockQueue();
  BlockQueue(const BlockQueue&) = delete;
  BlockQueue& operator=(const BlockQueue&) = delete;

  // Input thread.
  /// A free block to fill; waits while every block is in use.
  InputBlock* acquire();
  void publish(InputBlock* block);
  /// No more blocks will be published.
  void close();

  // Event loop.
  /// Readable while blocks are ready or the queue has been closed.
  int ready_fd() const { return event_fd_; }
  /// The oldest ready block, or null if none is ready now.
  InputBlock* pop();
  void release(InputBlock* block);
  /// True once closed and every block has been popped.
  bool finished();

 private:
  void signal_ready();

  std::vector<std::unique_ptr<InputBlock>> pool_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::deque<InputBlock*> free_;
  std::deque<InputBlock*> ready_;
  bool closed_ = false;
  int event_fd_ = -1;
};

}  // namespace batchpipe
