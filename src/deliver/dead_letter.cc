#include "deliver/dead_letter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace batchpipe {

std::optional<DeadLetter> DeadLetter::open(const std::string& path, std::string& error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    (void)::fchmod(fd, 0600);  // the umask may have taken bits from the owner too
  } else if (errno == EEXIST) {
    fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  }
  if (fd < 0) {
    error = fmt::format("--dead-letter {}: {}", path, std::strerror(errno));
    return std::nullopt;
  }
  return DeadLetter(path, fd);
}

DeadLetter::DeadLetter(DeadLetter&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_), buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
}

DeadLetter::~DeadLetter() {
  if (fd_ >= 0) ::close(fd_);
}

bool DeadLetter::write(const Batch& batch, std::string& error) {
  buffer_.clear();
  for (size_t i = 0; i < batch.records; ++i) buffer_.append(batch.record(i)).push_back('\n');
  struct stat before {};
  bool regular = ::fstat(fd_, &before) == 0 && S_ISREG(before.st_mode);
  const char* p = buffer_.data();
  size_t left = buffer_.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = fmt::format("dead-letter file {}: write error: {}", path_, std::strerror(errno));
      if (regular) (void)!::ftruncate(fd_, before.st_size);  // no half records left behind
      return false;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd_) != 0 && errno != EINVAL) {  // EINVAL: a pipe or /dev/stderr, nothing to sync
    error = fmt::format("dead-letter file {}: sync error: {}", path_, std::strerror(errno));
    if (regular) (void)!::ftruncate(fd_, before.st_size);  // reported lost: must not replay too
    return false;
  }
  return true;
}

}  // namespace batchpipe
