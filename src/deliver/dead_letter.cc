#include "deliver/dead_letter.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/safe_file.h"
#include "base/signals.h"

namespace batchpipe {
namespace {

/// How often a write that waits for a reader looks for a reason to stop.
constexpr int kWaitSliceMs = 50;

/// O_NONBLOCK: a FIFO without a reader neither blocks open() (ENXIO) nor,
/// once full, write() (EAGAIN); either is waited for in slices instead.
constexpr int kOpenFlags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NONBLOCK;

/// Why the file `fd` (just opened at `path`) must not get records, or "".
std::string refusal(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return "";
  return private_file_problem(st, ::geteuid());
}

/// strerror(errno), but for a link that was not followed: what to do instead.
std::string open_error(int error) {
  if (error == ELOOP)
    return "it is a symbolic link in a directory others can write, which batchpipe does not follow: give the "
           "path of the file itself";
  return std::strerror(error);
}

std::string directory_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

std::optional<DeadLetter> DeadLetter::open(const std::string& path, std::string& error) {
  int fd = open_no_planted_link(path, kOpenFlags);
  if (fd >= 0) {
    if (std::string why = refusal(fd); !why.empty()) {
      ::close(fd);
      error = fmt::format("--dead-letter {}: {}", path, why);
      return std::nullopt;
    }
  }
  bool ok = fd >= 0;
  if (!ok && errno == ENOENT) {
    ok = ::access(directory_of(path).c_str(), W_OK | X_OK) == 0;  // created by the first write
  } else if (!ok && errno == ENXIO) {
    ok = ::access(path.c_str(), W_OK) == 0;  // a FIFO with no reader yet: opened by the first write
    struct stat st {};
    if (std::string why = ok && ::stat(path.c_str(), &st) == 0 ? private_file_problem(st, ::geteuid()) : "";
        !why.empty()) {
      error = fmt::format("--dead-letter {}: {}", path, why);
      return std::nullopt;
    }
  }
  if (!ok) {
    error = fmt::format("--dead-letter {}: {}", path, open_error(errno));
    return std::nullopt;
  }
  return DeadLetter(path, fd);
}

DeadLetter::DeadLetter(DeadLetter&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_), buffer_(std::move(other.buffer_)),
      deadline_ns_(other.deadline_ns_.load()),
      grace_(other.grace_) {
  other.fd_ = -1;
}

DeadLetter::~DeadLetter() {
  if (fd_ >= 0) ::close(fd_);
}

void DeadLetter::set_deadline(TimePoint when) { deadline_ns_ = when.time_since_epoch().count(); }

const char* DeadLetter::stop_waiting() {
  if (signals::terminations() >= 2) return "gave up waiting for its reader after a second signal";
  int64_t deadline = deadline_ns_;
  if (deadline == 0 && signals::terminations() >= 1) {  // a shutdown began while we waited here
    set_deadline(Clock::now() + grace_);
    deadline = deadline_ns_;
  }
  if (deadline != 0 && Clock::now().time_since_epoch().count() >= deadline)
    return "gave up waiting for its reader at the end of the shutdown grace";
  return nullptr;
}

void DeadLetter::wait_writable() const {
  int timeout = kWaitSliceMs;
  if (int64_t deadline = deadline_ns_; deadline != 0)
    timeout = std::min(timeout, poll_timeout(TimePoint(TimePoint::duration(deadline))));
  pollfd p{fd_, POLLOUT, 0};
  (void)::poll(&p, fd_ >= 0 ? 1 : 0, timeout);
}

bool DeadLetter::open_current(std::string& error) {
  if (fd_ >= 0) {
    struct stat named {}, open {};
    bool gone = ::stat(path_.c_str(), &named) != 0 && errno == ENOENT;
    bool moved = !gone && ::fstat(fd_, &open) == 0 && (named.st_dev != open.st_dev || named.st_ino != open.st_ino);
    if (!gone && !moved) return true;
    ::close(fd_);  // rotated away: what follows goes to the file the path names now
    fd_ = -1;
  }
  for (;;) {
    fd_ = ::open(path_.c_str(), kOpenFlags | O_CREAT | O_EXCL, 0600);
    if (fd_ >= 0) {
      (void)::fchmod(fd_, 0600);  // the umask may have taken bits from the owner too
      return true;
    }
    if (errno == EEXIST) {
      // Someone else's now, maybe (a name reused after a rotation): judged as at start-up.
      fd_ = open_no_planted_link(path_, kOpenFlags);
      if (fd_ >= 0) {
        std::string why = refusal(fd_);
        if (why.empty()) return true;
        ::close(fd_);
        fd_ = -1;
        error = fmt::format("dead-letter file {}: not used: {}", path_, why);
        return false;
      }
      if (errno == ENOENT) continue;  // gone again between the two opens
    }
    if (errno == EINTR) continue;
    if (errno != ENXIO) {
      error = fmt::format("dead-letter file {}: cannot open: {}", path_, open_error(errno));
      return false;
    }
    if (const char* why = stop_waiting()) {  // a FIFO nobody has opened for reading
      error = fmt::format("dead-letter file {}: {}", path_, why);
      return false;
    }
    wait_writable();
  }
}

bool DeadLetter::write(const Batch& batch, std::string& error) {
  buffer_.clear();
  for (size_t i = 0; i < batch.records; ++i) buffer_.append(batch.record(i)).push_back('\n');
  if (!open_current(error)) return false;
  struct stat before {};
  bool regular = ::fstat(fd_, &before) == 0 && S_ISREG(before.st_mode);
  const char* p = buffer_.data();
  size_t left = buffer_.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      if (const char* why = stop_waiting()) {
        error = fmt::format("dead-letter file {}: {}", path_, why);
        return false;  // a FIFO: what its reader already has cannot be taken back
      }
      wait_writable();
      continue;
    }
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
