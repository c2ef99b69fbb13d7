// The user's word on a failed attempt: reply rules (--retryable-reply,
// --bisect-reply, --permanent-reply, matched against the receiver's reply:
// an HTTP body, or the command's stderr with --exec) first, then the status
// rules (--bisect-on, --permanent-status, --retryable-status). Pure: parsed
// once at start-up, consulted by the transports.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "deliver/retry_policy.h"
#include "deliver/status_rules.h"

namespace batchpipe {

/// A POSIX extended regular expression (as `grep -E` takes), searched for
/// anywhere in a reply. Copies share the compiled form; matching is
/// thread-safe.
class ReplyPattern {
 public:
  /// Compiles `text`; nothing, with `error` set (without the option's name),
  /// if it is not a valid expression or is empty (it would match every reply).
  static std::optional<ReplyPattern> compile(std::string_view text, std::string& error);

  /// Whether the pattern occurs in `reply` (which may hold NUL bytes).
  bool found_in(std::string_view reply) const;
  const std::string& text() const { return text_; }

 private:
  struct Compiled;
  std::string text_;
  std::shared_ptr<const Compiled> compiled_;
};

/// The reply rules, each list in the order given.
struct ReplyRules {
  std::vector<ReplyPattern> retryable;  ///< --retryable-reply: retried with backoff
  std::vector<ReplyPattern> bisect;     ///< --bisect-reply: split until the bad records are alone
  std::vector<ReplyPattern> permanent;  ///< --permanent-reply: given up at once, the run goes on

  bool empty() const { return retryable.empty() && bisect.empty() && permanent.empty(); }
};

/// What the rules make of one failed attempt.
struct Ruling {
  /// Retry or give up, replacing the built-in rule (the fail-fast one
  /// included); nothing: the built-in rule stands.
  std::optional<Outcome> outcome;
  /// Split the request in halves, down to single records that then fail
  /// alone (as a 413 is); `outcome` still applies when it cannot be split.
  bool bisect = false;
  /// The rule that decided, for messages: "--bisect-reply 'Code: 27'".
  std::string rule;
};

struct FailureRules {
  StatusRules status;  ///< --permanent-status, --retryable-status
  StatusList bisect;   ///< --bisect-on: statuses that split the request
  ReplyRules reply;

  /// The ruling on an attempt that failed with `status` (an HTTP status, or
  /// a command's exit status; 0 for none, when no status rule applies) and
  /// `reply`. The first reply rule that matches decides, looked at in the
  /// order retryable, bisect, permanent (a rule that keeps records wins over
  /// one that gives them up); without one, the status rules do.
  Ruling decide(int status, std::string_view reply) const;
};

}  // namespace batchpipe
