// --exec: each attempt runs `/bin/sh -c CMD` with the batch on its stdin.
#pragma once

#include <string>

#include "deliver/failure_rules.h"
#include "deliver/transport.h"

namespace batchpipe {

class ExecTransport : public Transport {
 public:
  /// `rules`: --permanent-status, --retryable-status, --bisect-on as exit
  /// statuses; --*-reply matched against the command's stderr. With reply
  /// rules (or `keep_stderr`: --dead-letter-reasons), the command's stderr is held in memory while
  /// it runs, then passed on to ours whole, and quoted in a failure's detail.
  explicit ExecTransport(std::string command, FailureRules rules = {}, bool keep_stderr = false);

  /// The command's stdin is the batch as a sealed in-memory file (memfd), so
  /// it may be read by name or seeked; its stdout is kept in another memfd,
  /// handed back with a delivered result for the commit step to write out. Delivered when the command exits 0. Exit 126/127 (cannot run, not found)
  /// is permanent, and stops the run (every batch would fail so); any other exit, death by a signal or the deadline is
  /// retryable. The child runs in its own process group, which is sent
  /// SIGTERM and, after a short grace, SIGKILL when the attempt is cut short.
  AttemptResult attempt(const Batch& batch, const AttemptInfo& info, AttemptControl& control) override;

 private:
  AttemptResult run(const Batch& batch, const AttemptInfo& info, AttemptControl& control);

  std::string command_;
  FailureRules rules_;
  bool keep_stderr_;
};

}  // namespace batchpipe
