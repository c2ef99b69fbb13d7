// --rotate-wait: when a followed file that its name no longer leads to is
// finished and closed. Pure, handed the time; the reader gathers the facts
// (fstat of the open descriptor, stat of the name) and applies the answer.
//
// A file renamed away by a rotation (logrotate's `create`) still gets the
// lines its writer appends between the rename and its reopen (postrotate's
// SIGHUP); those come after the last read, so leaving at once loses them.
// It is kept, and read as it grows, until it has been quiet for the wait and
// the new file under the name has been written (so the writer has moved on),
// or until it is deleted. A deleted file is read to its end and closed soon,
// so that its disk space is freed: no descriptor of a deleted file is held
// longer than the wait.
#pragma once

#include <optional>

#include "base/clock.h"
#include "base/units.h"

namespace batchpipe {

/// --rotate-wait's default: Fluent Bit's Rotate_Wait. A writer that reopens
/// on SIGHUP has moved on within milliseconds; 5 s also covers one that
/// reopens on its next flush or a slow postrotate script.
inline constexpr Duration kDefaultRotateWait = std::chrono::seconds(5);

/// A deleted file that has been quiet this long (or the wait, if shorter)
/// is closed without waiting for the rest of the wait.
inline constexpr Duration kDeletedQuiet = std::chrono::seconds(1);

/// What the reader knows of a file that is not (or no longer) the one its name leads to.
struct OldFile {
  TimePoint quiet_since{};    ///< when it last grew, or when it was found renamed or deleted if later
  bool deleted = false;       ///< its last name is gone (link count 0)
  TimePoint deleted_since{};  ///< when that was noticed
  bool new_written = false;   ///< the file the name leads to now holds bytes
};

struct LeaveDecision {
  bool leave = false;                   ///< read it to its end now and close it
  std::optional<TimePoint> look_again;  ///< when the answer may change without news (nothing: only news changes it)
};

/// Renamed: leave once quiet for `wait` and the new file is written.
/// Deleted: leave once quiet for min(`wait`, kDeletedQuiet), and at the
/// latest `wait` after the deletion was noticed.
LeaveDecision decide_leave(const OldFile& file, Duration wait, TimePoint now);

}  // namespace batchpipe
