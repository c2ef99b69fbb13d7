// -F, the follower: what tells the reader that a followed file has news, and
// what the news is. It watches the files' directories (inotify: writes,
// files created, renamed or removed, which also covers a file that appears
// later), falls back on looking again every so often (appends inotify cannot
// see, a directory it could not watch), and compares a file open by its
// descriptor with what its name points to now: rotated (another file under
// the name) or truncated (shorter than where reading got).
//
// The reader keeps each file's reading state and decides what to do with the
// news: keep reading a rotated file until rotate_wait.h says to leave it,
// then open the name again; read a truncated one's rest from its copy
// (rotated_siblings.h), then from its start.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "input/file_identity.h"

namespace batchpipe {

/// What happened to a followed regular file since it was opened.
struct FileNews {
  /// Rotated: the name leads to another file. Truncated: shorter than where
  /// reading got, or its first bytes changed. Unknown: its descriptor could
  /// not be looked at.
  enum Kind { None, Rotated, Truncated, Unknown } kind = None;
  uint64_t size = 0;          ///< its size now
  uint64_t read_to = 0;       ///< where reading had got
  bool deleted = false;       ///< no name leads to it any more (link count 0)
  bool name_written = false;  ///< the file the name leads to (another one, or this one) holds bytes
};

class Follower {
 public:
  /// Waiting ends early when `stop_fd` (if >= 0) becomes readable.
  explicit Follower(int stop_fd);
  ~Follower();
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  /// Watches `path`'s directory (not the file, which may be renamed away or
  /// not exist yet). Without inotify, the periodic look alone.
  void watch(const std::string& path);

  /// Waits for news of a watched file, for one of `fds` (pipes still read)
  /// to become readable, or for the poll period to pass (or `timeout_ms`,
  /// if sooner and not negative); false if the stop latch was raised.
  /// Either way every followed file is worth one read.
  bool wait(const std::vector<int>& fds, int timeout_ms = -1);

  /// Compares the file open as `fd` with what `path` names now. Truncation
  /// is judged by the descriptor's offset and by `print` (its first bytes as
  /// they were), so only for a file read as it is stored (`by_offset`: not
  /// decompressed).
  static FileNews look(const std::string& path, int fd, bool by_offset, const FileIdentity* print = nullptr);

  /// How often files are looked at when inotify says nothing.
  static constexpr int kPollMs = 1000;

 private:
  int stop_fd_;
  int inotify_fd_ = -1;
};

}  // namespace batchpipe
