// The dead-letter file: records that could not be delivered, appended as
// NDJSON byte-for-byte, so that `batchpipe < FILE` replays them.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "batch/batch_encoder.h"
#include "deliver/batch_attempts.h"
#include "base/clock.h"
#include "base/units.h"

namespace batchpipe {

class DeadLetter {
 public:
  /// Checks at start-up that `path` can be written, without creating it: an
  /// existing file is opened (and kept open), otherwise its directory must
  /// be writable. Returns nothing and sets `error` if it cannot be.
  /// `option` names the file in messages ("--dead-letter-reasons").
  static std::optional<DeadLetter> open(const std::string& path, std::string& error,
                                        const std::string& option = "--dead-letter");

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

  /// Gives up the whole of `batch`, which failed for `reason` with `status`
  /// (HTTP or exit; 0: none): write(), then with reasons (set_reasons()) a
  /// line per record there saying why. The records count as saved whether
  /// or not their reasons could be written (an error on stderr says so).
  bool give_up(const Batch& batch, const std::string& reason, int status, std::string& error);
  /// Gives up the records `failed` of `batch` (each with its own reason), in
  /// the batch's order, the same way.
  bool give_up(const Batch& batch, const std::vector<RecordFailure>& failed, std::string& error);

  /// --dead-letter-reasons: where to say why each record was given up (a
  /// file opened as this one is), and the run's inputs, which it names.
  void set_reasons(DeadLetter reasons, std::vector<std::string> inputs);

  /// Appends `text` as it is, as write() appends records.
  bool write_text(std::string_view text, std::string& error);

  /// Writes that would have to wait may do so until `when` only (the end of
  /// --grace, on shutdown). Safe to call from any thread.
  void set_deadline(TimePoint when);

  /// --grace: a write that waits when the first SIGINT/SIGTERM/SIGHUP comes
  /// (the loop thread, stuck in that write, cannot set the deadline itself)
  /// waits this long after it at most.
  void set_grace(Duration grace) { grace_ = grace; }

  const std::string& path() const { return path_; }

 private:
  DeadLetter(std::string path, int fd, std::string what) : path_(std::move(path)), fd_(fd), what_(std::move(what)) {}

  /// Appends buffer_, synced, all or nothing (for a regular file).
  bool append_buffer(std::string& error);
  /// Writes a reason line for each record of `batch` in `failed` (indices in it).
  void explain(const Batch& batch, const std::vector<RecordFailure>& failed);

  /// Makes fd_ the file the path names now, opening or creating it.
  bool open_current(std::string& error);
  /// Why a write that has to wait must stop waiting, or nullptr if it may wait.
  const char* stop_waiting();
  /// Waits up to a short while for fd_ to take more, or for a reason to stop.
  void wait_writable() const;

  std::string path_;
  int fd_ = -1;  ///< -1 until the first write, unless the file existed at start-up
  std::string what_ = "dead-letter file";  ///< for messages
  std::string buffer_;
  std::unique_ptr<DeadLetter> reasons_;  ///< --dead-letter-reasons, if given
  std::vector<std::string> inputs_;      ///< the run's inputs, by Position::input
  std::atomic<int64_t> deadline_ns_{0};  ///< steady-clock ns; 0: none
  Duration grace_ = std::chrono::seconds(10);
};

}  // namespace batchpipe
