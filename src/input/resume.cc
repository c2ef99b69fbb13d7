#include "input/resume.h"

#include <fmt/format.h>

namespace batchpipe {

ResumeDecision decide_resume(const std::string& name, const ResumePoint& saved, const FileNow& now) {
  ResumeDecision d;
  if (!saved.identity.same_file(now.identity)) {
    d.warning = fmt::format("{}: not the file the checkpoint saw (another inode): reading it from the start", name);
  } else if (!now.saved_prefix_print || *now.saved_prefix_print != saved.identity.fingerprint) {
    d.warning = fmt::format("{}: its first bytes changed since the checkpoint (truncated or rewritten): "
                            "reading it from the start", name);
  } else if (!now.gzip && now.size < saved.offset) {
    d.warning = fmt::format("{}: shorter ({} bytes) than the checkpoint's offset {} (truncated): "
                            "reading it from the start", name, now.size, saved.offset);
  } else {
    d.offset = saved.offset;
    d.line = saved.line;
  }
  return d;
}

}  // namespace batchpipe
