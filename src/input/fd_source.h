// The plain sources: a regular file, stdin, a pipe or a FIFO, read through
// one non-blocking descriptor.
#pragma once

#include <memory>
#include <string>

#include "input/source.h"

namespace batchpipe {

class FdSource final : public Source {
 public:
  /// Takes `fd` over (closed at the end, unless it is stdin).
  explicit FdSource(int fd) : fd_(fd) {}
  ~FdSource() override;
  FdSource(const FdSource&) = delete;
  FdSource& operator=(const FdSource&) = delete;

  /// Opens `path` ("-" is stdin) for reading: null with errno set if it
  /// cannot be. Never blocks (a FIFO without a writer included); a pipe is
  /// enlarged, a file is read ahead sequentially.
  static std::unique_ptr<FdSource> open(const std::string& path);

  ssize_t read(char* dst, size_t cap, std::string& error) override;
  int fd() const override { return fd_; }

 private:
  int fd_;
};

}  // namespace batchpipe
