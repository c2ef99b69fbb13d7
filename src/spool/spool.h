// The spool directory (--spool DIR) as the three parties that share it see
// it: the writer (spool_writer.h) appends validated records to the last
// segment and says what is synced; the reader (spool_reader.h) reads the
// segments in stream order, as far as they are synced; the commit step, on
// the loop thread, says how far the records are committed, and the segments
// wholly before that are deleted. One mutex guards the list of segments;
// the reader is woken through news_fd(), the writer waiting for room
// through a condition variable.
//
// DIR holds the segments (see segment_plan.h) and "state": the key that
// names the spool's records for {record_id} and the stream offset before
// which everything is committed. The state file is locked (flock) for the
// run, so that two runs never share a spool; it is rewritten in place at
// every commit (a kill -9 keeps it; a power loss may lose the last ones:
// records are then sent again, never lost).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/units.h"
#include "base/unique_fd.h"
#include "spool/segment_plan.h"

namespace batchpipe {

/// A segment as the reader sees it.
struct SegmentView {
  uint64_t base = 0;
  uint64_t readable = 0;  ///< bytes synced so far: what may be read
  bool closed = false;    ///< the writer is done with it: `readable` is its whole size
};

class Spool {
 public:
  /// Creates `dir` (mode 0700, never through a symbolic link) if it is
  /// missing, locks it, reads its state and lists its segments (their names
  /// and sizes only: memory does not grow with what they hold). Nothing,
  /// with `error` set, if another run holds it or it cannot be used; what
  /// the segments hold never stops a start. `segment_bytes`: when the writer
  /// starts a new segment.
  static std::unique_ptr<Spool> open(const std::string& dir, uint64_t max_bytes, uint64_t segment_bytes,
                                     std::string& error);
  ~Spool();

  const std::string& dir() const { return dir_; }
  /// "DIR/00000000000000001234.ndjson", for messages.
  std::string path_of(uint64_t base) const;
  int dir_fd() const { return dir_fd_.get(); }
  /// Names the spool's records for {record_id}, the same in every run.
  uint64_t key() const { return key_; }
  uint64_t max_bytes() const { return max_bytes_; }
  uint64_t segment_bytes() const { return segment_bytes_; }
  /// Where reading starts in this run (what an earlier run left first).
  uint64_t read_from() const { return read_from_; }
  /// Where this run's writer starts its first segment.
  uint64_t write_from() const { return write_from_; }

  // The writer's side.
  /// A new segment at `base` (the writer created the file).
  void begin_segment(uint64_t base);
  /// The writer removed the segment at `base`, which held nothing.
  void forget_empty(uint64_t base);
  /// The last segment now holds `size` bytes (written, perhaps not synced).
  void grew(uint64_t size);
  /// The segment at `base` is synced up to `size` bytes; `closed`: and complete.
  void synced(uint64_t base, uint64_t size, bool closed);
  /// The writer is done: no more segments come.
  void writer_done();
  /// Bytes the segments hold on disk.
  uint64_t bytes() const;
  /// Waits until `need` more bytes fit under --spool-max, `timeout` passes
  /// or `stop_fd` is readable; true if they fit.
  bool wait_for_room(uint64_t need, int stop_fd, Duration timeout);

  // The reader's side.
  /// Readable when something changed for the reader (more synced, a new segment, the writer done).
  int news_fd() const { return news_fd_.get(); }
  /// Clears news_fd().
  void take_news();
  /// The segment that holds stream offset `at`, or the first after it;
  /// nothing if there is none yet.
  std::optional<SegmentView> segment_at(uint64_t at) const;
  bool writer_finished() const;

  // The commit step's side (the loop thread).
  /// Every record before stream offset `end` is committed: the segments
  /// before it go, and the state file says so.
  void committed(uint64_t end);
  /// A batch was not settled: nothing is deleted or recorded as committed
  /// any more in this run (its records are read again next time).
  /// True the first time.
  bool freeze() { return !std::exchange(frozen_, true); }
  /// At the end of the run: `drained` (every segment read to its end and
  /// every record committed) deletes every segment the writer is done with.
  /// The state file is synced.
  void finish(bool drained);

  /// For --progress, --stats and the metrics: segments, bytes, and the age
  /// of the oldest record not yet committed: at least the time since the
  /// first sync that took it to disk (to within a second), 0 when every
  /// synced record is committed.
  struct Figures {
    uint64_t segments = 0;
    uint64_t bytes = 0;
    int64_t oldest_seconds = 0;  ///< 0 with no segment
  };
  Figures figures(std::chrono::system_clock::time_point now) const;

 private:
  Spool() = default;
  struct Segment {
    uint64_t base = 0;
    uint64_t size = 0;
    uint64_t synced = 0;
    bool closed = false;
  };
  /// Every byte before stream offset `end` was on disk by `when`.
  struct Mark {
    uint64_t end = 0;
    std::chrono::system_clock::time_point when{};
  };
  /// Adds a mark (under mutex_): at most one a second, at most kMaxMarks
  /// (then every other one goes: the figure gets coarser, memory stays bounded).
  void mark(uint64_t end, std::chrono::system_clock::time_point when);
  void save_state();
  void delete_front(uint64_t upto);
  void wake_reader();

  std::string dir_;
  UniqueFd dir_fd_;
  UniqueFd state_fd_;  ///< holds the lock
  UniqueFd news_fd_;   ///< an eventfd
  uint64_t key_ = 0;
  uint64_t max_bytes_ = 0;
  uint64_t segment_bytes_ = 0;
  uint64_t read_from_ = 0;
  uint64_t write_from_ = 0;
  uint64_t committed_ = 0;  ///< loop thread only
  bool frozen_ = false;     ///< loop thread only
  bool state_error_said_ = false;

  mutable std::mutex mutex_;
  std::condition_variable room_;
  std::vector<Segment> segments_;  ///< in stream order
  std::deque<Mark> marks_;         ///< in stream order; those the commit step passed go
  uint64_t bytes_ = 0;
  bool writer_done_ = false;
};

/// The state file's one line, fixed in size so that it is rewritten in
/// place: "batchpipe-spool 1 <key: 16 hex> <committed: 20 digits>\n". Pure.
std::string format_spool_state(uint64_t key, uint64_t committed);
/// Parses it; false if `text` is not one (then the spool starts afresh).
bool parse_spool_state(std::string_view text, uint64_t& key, uint64_t& committed);

}  // namespace batchpipe
