// A Source that hands out scripted reads: each entry is what one read()
// returns (cut to the caller's room, the rest kept for the next read), an
// entry "" is kAgain (nothing ready yet); after the last, the end (0).
#pragma once

#include <algorithm>
#include <deque>
#include <string>

#include "input/source.h"

namespace batchpipe {

class FakeSource final : public Source {
 public:
  explicit FakeSource(std::deque<std::string> reads) : reads_(std::move(reads)) {}

  ssize_t read(char* dst, size_t cap, std::string& error) override {
    if (!error_.empty() && reads_.empty()) {
      error = error_;
      return kError;
    }
    if (reads_.empty()) return 0;
    std::string& next = reads_.front();
    if (next.empty()) {
      reads_.pop_front();
      return kAgain;
    }
    size_t n = std::min(cap, next.size());
    std::copy_n(next.data(), n, dst);
    next.erase(0, n);
    if (next.empty()) reads_.pop_front();
    return static_cast<ssize_t>(n);
  }
  int fd() const override { return -1; }

  /// After the scripted reads, fail with `error` instead of ending.
  void fail_at_end(std::string error) { error_ = std::move(error); }

 private:
  std::deque<std::string> reads_;
  std::string error_;
};

}  // namespace batchpipe
