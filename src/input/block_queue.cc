#include "input/block_queue.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "base/startup_error.h"

namespace batchpipe {

BlockQueue::BlockQueue(size_t pool_size, bool validated) : must_validate_(validated) {
  for (size_t i = 0; i < pool_size; ++i) {
    pool_.push_back(std::make_unique<InputBlock>());
    free_.push_back(pool_.back().get());
  }
  event_fd_ = checked_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "an eventfd");
}

BlockQueue::~BlockQueue() { ::close(event_fd_); }

InputBlock* BlockQueue::acquire() {
  std::unique_lock lock(mutex_);
  freed_.wait(lock, [&] { return !free_.empty(); });
  InputBlock* block = free_.front();
  free_.pop_front();
  return block;
}

void BlockQueue::publish(InputBlock* block) {
  block->validated = false;
  {
    std::lock_guard lock(mutex_);
    ready_.push_back(block);
    counted_[block] = block->buffer.size();
    held_ += block->buffer.size();
  }
  if (must_validate_) {
    claimable_.notify_one();
    return;
  }
  signal_ready();
}

InputBlock* BlockQueue::claim() {
  std::unique_lock lock(mutex_);
  claimable_.wait(lock, [&] { return claimed_ < ready_.size() || closed_ || claims_stopped_; });
  if (claims_stopped_ || claimed_ >= ready_.size()) return nullptr;
  return ready_[claimed_++];
}

void BlockQueue::validated(InputBlock* block) {
  bool front;
  {
    std::lock_guard lock(mutex_);
    block->validated = true;
    front = !ready_.empty() && ready_.front() == block;
  }
  if (front) signal_ready();
}

void BlockQueue::stop_claims() {
  {
    std::lock_guard lock(mutex_);
    claims_stopped_ = true;
  }
  claimable_.notify_all();
}

void BlockQueue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  claimable_.notify_all();
  signal_ready();
}

InputBlock* BlockQueue::pop() {
  uint64_t count;
  (void)!::read(event_fd_, &count, sizeof count);  // reset; we look at the queue itself
  std::lock_guard lock(mutex_);
  if (ready_.empty() || (must_validate_ && !ready_.front()->validated)) return nullptr;
  InputBlock* block = ready_.front();
  ready_.pop_front();
  if (must_validate_) --claimed_;
  bool next_ready = !ready_.empty() && (!must_validate_ || ready_.front()->validated);
  if (next_ready || (ready_.empty() && closed_)) {
    uint64_t one = 1;
    (void)!::write(event_fd_, &one, sizeof one);  // still more to take: stay readable
  }
  return block;
}

void BlockQueue::release(InputBlock* block) {
  {
    std::lock_guard lock(mutex_);
    free_.push_back(block);
    held_ -= std::exchange(counted_[block], 0);
  }
  freed_.notify_one();
}

bool BlockQueue::finished() {
  std::lock_guard lock(mutex_);
  return closed_ && ready_.empty();
}

void BlockQueue::signal_ready() {
  uint64_t one = 1;
  (void)!::write(event_fd_, &one, sizeof one);
}

}  // namespace batchpipe
