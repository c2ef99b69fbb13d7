#include "commit/stdout_writer.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/diagnostics.h"
#include "base/signals.h"

namespace batchpipe {

StdoutWriter::StdoutWriter(int fd) : fd_(fd) {
  if (fd_ >= 0) (void)::fcntl(fd_, F_SETPIPE_SZ, 1 << 20);
}

long StdoutWriter::write_some(const iovec* iov, int count) {
  for (;;) {
    if (broken()) return -1;
    ssize_t n = ::writev(fd_, iov, count);
    // A signal cuts a blocked write short (EINTR, or a partial count): SIGUSR2's report is due now.
    signals::report_info_if_asked();
    if (n >= 0) return n;
    if (errno == EAGAIN) {  // a non-blocking stdout we were handed: wait, don't spin
      pollfd out{fd_, POLLOUT, 0};
      (void)::poll(&out, 1, -1);
    }
    if ((errno == EINTR || errno == EAGAIN) && signals::terminations() < 2) continue;
    if (errno == EINTR) {
      failed_ = true;  // a second signal: stop waiting for a reader that does not read
      diag::error("stdout: gave up writing after a second signal");
    } else if (errno == EPIPE) {
      reader_gone_ = true;
    } else {
      failed_ = true;
      diag::error(fmt::format("stdout: write error: {}", std::strerror(errno)));
    }
    return -1;
  }
}

size_t StdoutWriter::write(const std::vector<std::string_view>& pieces) {
  size_t first = 0;   // first piece not fully written
  size_t offset = 0;  // bytes of it already written
  iovec iov[IOV_MAX];
  while (first < pieces.size()) {
    int count = 0;
    for (size_t i = first; i < pieces.size() && count < IOV_MAX; ++i, ++count) {
      size_t skip = i == first ? offset : 0;
      iov[count].iov_base = const_cast<char*>(pieces[i].data() + skip);
      iov[count].iov_len = pieces[i].size() - skip;
    }
    long n = write_some(iov, count);
    if (n < 0) break;
    size_t written = static_cast<size_t>(n);
    while (first < pieces.size() && written >= pieces[first].size() - offset) {
      written -= pieces[first].size() - offset;
      offset = 0;
      ++first;
    }
    offset += written;
  }
  return first;
}

bool StdoutWriter::write(std::string_view bytes) { return write(std::vector<std::string_view>{bytes}) == 1; }

bool StdoutWriter::copy_from(int fd) {
  char buffer[1 << 16];
  for (off_t offset = 0;;) {
    ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n == 0;
    offset += n;
    if (!write(std::string_view(buffer, static_cast<size_t>(n)))) return false;
  }
}

}  // namespace batchpipe
