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
#include "base/diagnostics.h"
#include "base/signals.h"
#include "deliver/dead_letter_reason.h"

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

std::optional<DeadLetter> DeadLetter::open(const std::string& path, std::string& error, const std::string& option) {
  int fd = open_no_planted_link(path, kOpenFlags);
  if (fd >= 0) {
    if (std::string why = refusal(fd); !why.empty()) {
      ::close(fd);
      error = fmt::format("{} {}: {}", option, path, why);
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
      error = fmt::format("{} {}: {}", option, path, why);
      return std::nullopt;
    }
  }
  if (!ok) {
    error = fmt::format("{} {}: {}", option, path, open_error(errno));
    return std::nullopt;
  }
  return DeadLetter(path, fd, option == "--dead-letter" ? "dead-letter file" : option.substr(2) + " file");
}

DeadLetter::DeadLetter(DeadLetter&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_), what_(std::move(other.what_)), buffer_(std::move(other.buffer_)),
      reasons_(std::move(other.reasons_)), inputs_(std::move(other.inputs_)),
      deadline_ns_(other.deadline_ns_.load()),
      grace_(other.grace_) {
  other.fd_ = -1;
}

DeadLetter::~DeadLetter() {
  if (fd_ >= 0) ::close(fd_);
}

void DeadLetter::set_deadline(TimePoint when) {
  deadline_ns_ = when.time_since_epoch().count();
  if (reasons_) reasons_->set_deadline(when);
}

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
        error = fmt::format("{} {}: not used: {}", what_, path_, why);
        return false;
      }
      if (errno == ENOENT) continue;  // gone again between the two opens
    }
    if (errno == EINTR) continue;
    if (errno != ENXIO) {
      error = fmt::format("{} {}: cannot open: {}", what_, path_, open_error(errno));
      return false;
    }
    if (const char* why = stop_waiting()) {  // a FIFO nobody has opened for reading
      error = fmt::format("{} {}: {}", what_, path_, why);
      return false;
    }
    wait_writable();
  }
}

bool DeadLetter::write(const Batch& batch, std::string& error) {
  buffer_.clear();
  for (size_t i = 0; i < batch.records; ++i) buffer_.append(batch.record(i)).push_back('\n');
  return append_buffer(error);
}

bool DeadLetter::write_text(std::string_view text, std::string& error) {
  buffer_.assign(text);
  return append_buffer(error);
}

void DeadLetter::set_reasons(DeadLetter reasons, std::vector<std::string> inputs) {
  reasons.set_grace(grace_);
  reasons_ = std::make_unique<DeadLetter>(std::move(reasons));
  inputs_ = std::move(inputs);
}

bool DeadLetter::give_up(const Batch& batch, const std::string& reason, int status, std::string& error) {
  if (!write(batch, error)) return false;
  if (reasons_) {
    std::vector<RecordFailure> all;
    all.reserve(batch.records);
    for (uint32_t i = 0; i < batch.records; ++i) all.push_back({i, reason, status});
    explain(batch, all);
  }
  return true;
}

bool DeadLetter::give_up(const Batch& batch, const std::vector<RecordFailure>& failed, std::string& error) {
  std::vector<RecordFailure> sorted = failed;
  std::sort(sorted.begin(), sorted.end(), [](const RecordFailure& a, const RecordFailure& b) { return a.index < b.index; });
  std::vector<uint32_t> indices;
  for (const RecordFailure& f : sorted) indices.push_back(f.index);
  if (!write(part_of(batch, indices), error)) return false;
  if (reasons_) explain(batch, sorted);
  return true;
}

void DeadLetter::explain(const Batch& batch, const std::vector<RecordFailure>& failed) {
  std::string lines;
  DeadLetterReason r;
  r.time = std::chrono::system_clock::now();
  r.batch = batch.number;
  r.records = batch.records;
  auto name = [&](uint32_t input) {
    return input < inputs_.size() ? std::string_view(inputs_[input]) : std::string_view();
  };
  r.first_line = batch.first.line;
  r.last_line = batch.last.line;
  for (const RecordFailure& f : failed) {
    std::optional<RecordAt> at = batch.where(f.index);
    r.input = name(at ? at->input : batch.first.input);
    r.line = at ? at->line : 0;
    r.record = f.index + 1;
    r.status = f.status;
    r.reason = f.reason;
    lines += format_reason(r);
  }
  if (std::string error; !reasons_->write_text(lines, error))
    diag::error(fmt::format("{}; the records are in {} all the same", error, path_));
}

bool DeadLetter::append_buffer(std::string& error) {
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
        error = fmt::format("{} {}: {}", what_, path_, why);
        return false;  // a FIFO: what its reader already has cannot be taken back
      }
      wait_writable();
      continue;
    }
    if (n < 0) {
      error = fmt::format("{} {}: write error: {}", what_, path_, std::strerror(errno));
      if (regular) (void)!::ftruncate(fd_, before.st_size);  // no half records left behind
      return false;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd_) != 0 && errno != EINVAL) {  // EINVAL: a pipe or /dev/stderr, nothing to sync
    error = fmt::format("{} {}: sync error: {}", what_, path_, std::strerror(errno));
    if (regular) (void)!::ftruncate(fd_, before.st_size);  // reported lost: must not replay too
    return false;
  }
  return true;
}

}  // namespace batchpipe
