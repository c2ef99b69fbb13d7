#include "json/validation_pool.h"

#include "json/line_validator.h"
#include "base/signals.h"

namespace batchpipe {

ValidationPool::ValidationPool(BlockQueue& queue, size_t threads) : queue_(queue) {
  signals::block_in_this_thread(true);  // signals are the loop's
  for (size_t i = 0; i < threads; ++i)
    threads_.emplace_back([&queue] {
      LineValidator validator(/*threaded=*/false);  // each thread its own parsers; no threads of simdjson's
      while (InputBlock* block = queue.claim()) {
        block->problems.clear();
        validator.validate(block->buffer.data(), block->buffer.size() - kValidatorPadding, block->lines,
                           block->problems);
        queue.validated(block);
      }
    });
  signals::block_in_this_thread(false);
}

ValidationPool::~ValidationPool() {
  queue_.stop_claims();
  for (auto& t : threads_) t.join();
}

}  // namespace batchpipe
