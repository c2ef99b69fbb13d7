// The spool's writer (--spool DIR): on threads of its own, reads the
// inputs (stdin, pipes, FIFOs) as fast as they come, judges each line as
// --on-invalid says, and appends the records, one line each, to the last
// segment; a second thread syncs (fdatasync) what was written at least
// every --spool-sync: a group commit, so that a fast producer pays for one
// sync per interval, not per record. Only synced bytes are read back, so a
// record's id (its stream offset) never names another record after a power
// loss. A slow receiver never stops the reading; a full spool (--spool-max,
// or the disk) does under --on-full block, and drops the newest records
// under --on-full drop.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/clock.h"
#include "base/units.h"
#include "base/exit_status.h"
#include "base/unique_fd.h"
#include "cli/config.h"
#include "cli/record_limit.h"
#include "report/metrics.h"

namespace batchpipe {

class Spool;

class SpoolWriter {
 public:
  /// Reading stops once `stop_fd` is readable (whole lines read so far are still spooled).
  SpoolWriter(Spool& spool, const Config& config, const RecordLimit& limit, int stop_fd, Metrics& metrics);
  ~SpoolWriter();

  /// Starts the threads (call with the loop's signals blocked).
  void start();
  /// Waits for them; what the inputs and their lines meant for the exit status.
  ExitStatus join();

 private:
  void run();
  void sync_loop();
  /// Adds a record to what is written next; false if the run stops first.
  bool append(std::string_view record);
  /// Writes what is buffered, then `record` and its newline if given (a
  /// long record goes from where it lies, never copied into the buffer);
  /// false if the run stops first (the spool full).
  bool flush(std::string_view record = {});
  /// Syncs and closes the current segment.
  void close_segment();
  bool open_segment();
  /// Waits for room (--on-full block) or drops (drop); false if the run stops first.
  bool full(uint64_t need, std::string_view why);
  bool stopped() const;

  Spool& spool_;
  const Config& config_;
  RecordLimit limit_;
  int stop_fd_;
  Metrics& metrics_;
  bool drop_;
  std::thread reader_thread_, sync_thread_;
  ExitStatus status_ = ExitStatus::Success;

  std::string buffer_;           ///< records not yet written
  uint64_t buffered_records_ = 0;
  uint64_t next_base_ = 0;       ///< stream offset of the next segment
  uint64_t dropped_ = 0;
  TimePoint next_drop_note_{};
  bool said_disk_full_ = false;
  uint64_t lost_ = 0;            ///< records read but not spooled when the run stopped

  // Shared with the sync thread.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::shared_ptr<UniqueFd> fd_;  ///< the current segment; null between segments
  uint64_t base_ = 0;             ///< its stream offset
  uint64_t size_ = 0;             ///< bytes written to it
  uint64_t synced_ = 0;           ///< of those, synced
  bool done_ = false;
};

}  // namespace batchpipe
