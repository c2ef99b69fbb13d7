#include "input/read_room.h"

#include <sys/eventfd.h>
#include <algorithm>
#include <unistd.h>

#include "base/startup_error.h"

namespace batchpipe {

ReadRoom::ReadRoom(uint64_t budget, bool waits, const BlockQueue* queue)
    : budget_(budget), waits_(waits), queue_(queue), fd_(checked_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "an eventfd")) {}

ReadRoom::~ReadRoom() { ::close(fd_); }

uint64_t ReadRoom::wanted() const {
  std::lock_guard lock(mutex_);
  return wanted_;
}

void ReadRoom::others(uint64_t bytes, bool records_held) {
  {
    std::lock_guard lock(mutex_);
    others_ = bytes;
    records_held_ = records_held;
  }
  changed_.notify_all();
}

void ReadRoom::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  changed_.notify_all();
}

void ReadRoom::holding(uint64_t bytes) {
  std::lock_guard lock(mutex_);
  held_ = bytes;
}

bool ReadRoom::wait_for(uint64_t more) {
  std::unique_lock lock(mutex_);
  if (!waits_ || stopped_ || fits(more)) return !stopped_;
  wanted_ = more;
  uint64_t one = 1;
  (void)!::write(fd_, &one, sizeof one);
  changed_.wait(lock, [&] { return stopped_ || fits(more); });
  wanted_ = 0;
  return !stopped_;
}

uint64_t ReadRoom::grant(uint64_t least, uint64_t most) {
  if (!wait_for(least)) return most;  // stopped: the reader sees the stop latch
  std::lock_guard lock(mutex_);
  Level l = level();
  if (!waits_ || !l.records) return most;
  uint64_t left = l.used < budget_ ? budget_ - l.used : 0;
  return std::clamp(left, std::min(least, most), most);
}

uint64_t ReadRoom::held() const {
  std::lock_guard lock(mutex_);
  return held_;
}

}  // namespace batchpipe
