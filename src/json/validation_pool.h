// Validation on several threads (--threads N > 1): each thread claims whole
// framed blocks from the queue, in order, and notes which lines are not JSON
// texts; the loop still takes the blocks in input order and decides what
// becomes of each line, so messages, batches and exit statuses are those of a
// single thread.
#pragma once

#include <thread>
#include <vector>

#include "input/block_queue.h"

namespace batchpipe {

class ValidationPool {
 public:
  /// Starts `threads` threads on `queue`, which must have been made with
  /// validated = true; none for 0.
  ValidationPool(BlockQueue& queue, size_t threads);
  /// Stops claiming and joins the threads; blocks they hold stay unvalidated.
  ~ValidationPool();
  ValidationPool(const ValidationPool&) = delete;
  ValidationPool& operator=(const ValidationPool&) = delete;

 private:
  BlockQueue& queue_;
  std::vector<std::thread> threads_;
};

}  // namespace batchpipe
