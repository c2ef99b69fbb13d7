// The one writer of batchpipe's stdout. Batches on the stdout sink, a
// command's captured output and --map's answers all leave through here, at
// the commit step, in batch order: one place decides what a full pipe, a
// reader gone (EPIPE), a write error or a second signal mean.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <string_view>
#include <vector>

namespace batchpipe {

class StdoutWriter {
 public:
  /// Writes to `fd` (-1: stdout was closed when we started, every write
  /// fails); a pipe is enlarged so that each write moves more.
  explicit StdoutWriter(int fd);

  /// Writes `pieces` in order with as few writev(2) calls as it takes. Returns
  /// how many of them were written whole: all of them, unless the writer
  /// broke on the way.
  size_t write(const std::vector<std::string_view>& pieces);
  /// Writes `bytes`; false if they did not all go.
  bool write(std::string_view bytes);
  /// Copies everything readable from `fd` (from its start, with pread); false
  /// if it could not all be read or written.
  bool copy_from(int fd);

  /// True once nothing more can be written: the reader went away or a write failed.
  bool broken() const { return reader_gone_ || failed_; }
  /// True when the reader of our output went away (EPIPE): the run should
  /// end quietly, by SIGPIPE, as cat's would.
  bool reader_gone() const { return reader_gone_; }
  /// True after a write error (said on stderr once).
  bool failed() const { return failed_; }

 private:
  /// One writev of up to IOV_MAX pieces; on a signal or a full non-blocking
  /// pipe, tries again. Returns the bytes written, or -1 once broken.
  long write_some(const iovec* iov, int count);

  int fd_;
  bool reader_gone_ = false;
  bool failed_ = false;
};

}  // namespace batchpipe
