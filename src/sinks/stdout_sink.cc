#include "sinks/stdout_sink.h"

#include <fcntl.h>
#include <poll.h>
#include <limits.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/diagnostics.h"
#include "base/signals.h"

namespace batchpipe {
namespace {

/// Batches are held until this many bytes are waiting, then written at once;
/// few large writes are what keeps up with cat.
constexpr uint64_t kWriteBytes = 1 << 20;
constexpr size_t kMaxIov = IOV_MAX;

}  // namespace

StdoutSink::StdoutSink(int fd) : fd_(fd) { (void)::fcntl(fd_, F_SETPIPE_SZ, 1 << 20); }

void StdoutSink::deliver(Batch&& batch) {
  if (broken()) {
    undelivered_ += batch.records;
    spend(std::move(batch), false);
    return;
  }
  pending_bytes_ += batch.bytes.size();
  pending_.push_back(std::move(batch));
  if (pending_bytes_ >= kWriteBytes || pending_.size() >= kMaxIov) flush();
}

void StdoutSink::flush() {
  size_t first = 0;    // first pending batch not fully written
  size_t offset = 0;   // bytes of it already written
  iovec iov[kMaxIov];
  while (first < pending_.size() && !broken()) {
    size_t count = 0;
    for (size_t i = first; i < pending_.size() && count < kMaxIov; ++i, ++count) {
      size_t skip = i == first ? offset : 0;
      iov[count].iov_base = pending_[i].bytes.data() + skip;
      iov[count].iov_len = pending_[i].bytes.size() - skip;
    }
    ssize_t n = ::writev(fd_, iov, static_cast<int>(count));
    // A signal cuts a blocked write short (EINTR, or a partial count): SIGUSR2's report is due now.
    signals::report_info_if_asked();
    if (n < 0) {
      if (errno == EAGAIN) {  // a non-blocking stdout we were handed: wait, don't spin
        pollfd out{fd_, POLLOUT, 0};
        (void)::poll(&out, 1, -1);
      }
      if ((errno == EINTR || errno == EAGAIN) && signals::terminations() < 2) continue;
      if (errno == EINTR) {
        failed_ = true;  // a second signal: stop waiting for a reader that does not read
        diag::error("stdout: gave up writing after a second signal");
      } else if (errno == EPIPE) {
        downstream_closed_ = true;
      } else {
        failed_ = true;
        diag::error(fmt::format("stdout: write error: {}", std::strerror(errno)));
      }
      break;
    }
    size_t written = static_cast<size_t>(n);
    while (first < pending_.size() && written >= pending_[first].bytes.size() - offset) {
      written -= pending_[first].bytes.size() - offset;
      offset = 0;
      ++first;
    }
    offset += written;
  }
  if (broken()) {
    // A batch cut short by the error counts as undelivered, like those after it.
    for (size_t i = first; i < pending_.size(); ++i) undelivered_ += pending_[i].records;
  }
  for (size_t i = 0; i < pending_.size(); ++i) spend(std::move(pending_[i]), i < first);
  pending_.clear();
  pending_bytes_ = 0;
}

}  // namespace batchpipe
