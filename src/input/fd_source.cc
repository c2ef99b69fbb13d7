#include "input/fd_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace batchpipe {
namespace {

/// Pipes are enlarged to this, so that each read moves more at once.
constexpr int kPipeSize = 1 << 20;

}  // namespace

FdSource::~FdSource() {
  if (fd_ > STDIN_FILENO) ::close(fd_);
}

std::unique_ptr<FdSource> FdSource::open(const std::string& path) {
  if (path == "-") {
    (void)::fcntl(STDIN_FILENO, F_SETPIPE_SZ, kPipeSize);  // fails harmlessly on non-pipes
    return std::make_unique<FdSource>(STDIN_FILENO);
  }
  // O_NONBLOCK: a FIFO without a writer must not block open(); the reader
  // polls before every read, so the stop latch is heard while it waits.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return nullptr;
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::make_unique<FdSource>(fd);
}

ssize_t FdSource::read(char* dst, size_t cap, std::string& error) {
  ssize_t n = ::read(fd_, dst, cap);
  if (n >= 0) return n;
  if (errno == EINTR || errno == EAGAIN) return kAgain;
  error = std::string("read error: ") + std::strerror(errno);
  return kError;
}

}  // namespace batchpipe
