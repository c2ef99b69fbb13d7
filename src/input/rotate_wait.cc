#include "input/rotate_wait.h"

#include <algorithm>

namespace batchpipe {

LeaveDecision decide_leave(const OldFile& file, Duration wait, TimePoint now) {
  if (file.deleted) {
    TimePoint quiet_enough = file.quiet_since + std::min(wait, std::chrono::duration_cast<Duration>(kDeletedQuiet));
    TimePoint latest = file.deleted_since + wait;
    TimePoint when = std::min(quiet_enough, latest);
    return now >= when ? LeaveDecision{true, std::nullopt} : LeaveDecision{false, when};
  }
  TimePoint quiet_enough = file.quiet_since + wait;
  if (!file.new_written) return {false, std::nullopt};  // news of the name's file is a write: inotify or the poll
  return now >= quiet_enough ? LeaveDecision{true, std::nullopt} : LeaveDecision{false, quiet_enough};
}

}  // namespace batchpipe
