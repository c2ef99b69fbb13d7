// The dead-letter file: records that could not be delivered, appended as
// NDJSON byte-for-byte, so that `batchpipe < FILE` replays them.
#pragma once

#include <atomic>
#include <optional>
#include <string>

#include "batch/batch_encoder.h"
#include "base/clock.h"
#include "base/units.h"

namespace batchpipe {

class DeadLetter {
 public:
  /// Checks at start-up that `path` can be written, without creating it: an
  /// existing file is opened (and kept open), otherwise its directory must
  /// be writable. Returns nothing and sets `error` if it cannot be.
  static std::optional<DeadLetter> open(const std::string& path, std::string& error);

  DeadLetter(DeadLetter&& other) noexcept;
  DeadLetter& operator=(DeadLetter&&) = delete;
  ~DeadLetter();

  /// Appends each record of `batch` on a line of its own and syncs the file
  /// to disk. Returns false and sets `error` (naming the path) if it could
  /// not; a regular file is then cut back to where it was.
  ///
  /// The file is created (mode 0600 whatever the umask) by the first write,
  /// so a run with nothing to give up leaves none behind. Before each write,
  /// if the path no longer names the open file (moved or deleted, by
  /// logrotate say), the file is opened (or created) anew at the path.
  ///
  /// A reader that does not read (a FIFO) is waited for, but not for ever:
  /// the write gives up once the deadline of set_deadline() has passed or a
  /// second SIGINT/SIGTERM/SIGHUP has come.
  bool write(const Batch& batch, std::string& error);

  /// Writes that would have to wait may do so until `when` only (the end of
  /// --grace, on shutdown). Safe to call from any thread.
  void set_deadline(TimePoint when);

  /// --grace: a write that waits when the first SIGINT/SIGTERM/SIGHUP comes
  /// (the loop thread, stuck in that write, cannot set the deadline itself)
  /// waits this long after it at most.
  void set_grace(Duration grace) { grace_ = grace; }

  const std::string& path() const { return path_; }

 private:
  explicit DeadLetter(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  /// Makes fd_ the file the path names now, opening or creating it.
  bool open_current(std::string& error);
  /// Why a write that has to wait must stop waiting, or nullptr if it may wait.
  const char* stop_waiting();
  /// Waits up to a short while for fd_ to take more, or for a reason to stop.
  void wait_writable() const;

  std::string path_;
  int fd_ = -1;  ///< -1 until the first write, unless the file existed at start-up
  std::string buffer_;
  std::atomic<int64_t> deadline_ns_{0};  ///< steady-clock ns; 0: none
  Duration grace_ = std::chrono::seconds(10);
};

}  // namespace batchpipe
