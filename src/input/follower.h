// -F, the follower: what tells the reader that a followed file has news, and
// what the news is. It watches the files' directories (inotify: writes,
// files created, renamed or removed, which also covers a file that appears
// later), falls back on looking again every so often (appends inotify cannot
// see, a directory it could not watch), and compares a file open by its
// descriptor with what its name points to now: rotated (another file under
// the name) or truncated (shorter than where reading got).
//
// The reader keeps each file's reading state and decides what to do with the
// news (finish a rotated file, then open the name again; read a truncated one
// from its start). Later rules fit here without touching the reader's
// framing: a rotation wait (keep a renamed file open until it has been quiet
// for a while and the new one was written) is a decision on look()'s answer
// and a time; globs are directories watched for new names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace batchpipe {

/// What happened to a followed regular file since it was opened.
struct FileNews {
  enum Kind { None, Rotated, Truncated, Unknown } kind = None;  ///< Unknown: its descriptor could not be looked at
  uint64_t size = 0;     ///< Truncated: its size now
  uint64_t read_to = 0;  ///< Truncated: where reading had got
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
  /// to become readable, or for the poll period to pass; false if the stop
  /// latch was raised. Either way every followed file is worth one read.
  bool wait(const std::vector<int>& fds);

  /// Compares the file open as `fd` with what `path` names now. Truncation
  /// is judged by the descriptor's offset, so only for a file read as it is
  /// stored (`by_offset`: not decompressed).
  static FileNews look(const std::string& path, int fd, bool by_offset);

  /// How often files are looked at when inotify says nothing.
  static constexpr int kPollMs = 1000;

 private:
  int stop_fd_;
  int inotify_fd_ = -1;
};

}  // namespace batchpipe
