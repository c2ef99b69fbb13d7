// Where an input's bytes come from: the one narrow interface the reader
// reads through, so that neither it nor the framer knows a file from a pipe
// from a gzip stream, and tests can hand in scripted bytes
// (tests/fake_source.h).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

namespace batchpipe {

class Source {
 public:
  static constexpr ssize_t kAgain = -1;  ///< nothing ready yet: poll fd() (unless ready()) and read again
  static constexpr ssize_t kError = -2;  ///< the input cannot be read further; `error` says why

  virtual ~Source() = default;

  /// Reads up to `cap` (> 0) bytes into `dst`: how many, 0 at the end of the
  /// input, kAgain or kError (with `error` set, without the input's name).
  virtual ssize_t read(char* dst, size_t cap, std::string& error) = 0;

  /// Bytes can be had without waiting on fd() (data already taken in but not
  /// yet handed out, as a decompressor holds).
  virtual bool ready() const { return false; }

  /// The descriptor to poll for more, and the one a regular file is
  /// identified, resumed and followed by; -1 if there is none.
  virtual int fd() const = 0;
};

}  // namespace batchpipe
