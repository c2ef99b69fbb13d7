// The statuses users name themselves: --permanent-status and
// --retryable-status, exit statuses of the --exec command or HTTP statuses
// with --post. Pure: parsed once, looked up by the transports.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "deliver/retry_policy.h"

namespace batchpipe {

/// "3", "3,64-78", "409,500-502": statuses and inclusive ranges.
class StatusList {
 public:
  /// Parses `text`; every status must lie in [lo, hi]. Nothing, with `error`
  /// set (without the option's name), if it does not.
  static std::optional<StatusList> parse(std::string_view text, int lo, int hi, std::string& error);

  bool contains(int status) const;
  bool empty() const { return ranges_.empty(); }
  /// The first status both lists hold, if any.
  std::optional<int> overlap(const StatusList& other) const;
  /// Whether any status of [lo, hi] is in the list.
  bool touches(int lo, int hi) const;

 private:
  std::vector<std::pair<int, int>> ranges_;
};

struct StatusRules {
  StatusList permanent;  ///< --permanent-status: given up at once, the run goes on
  StatusList retryable;  ///< --retryable-status: retried like a timeout

  /// The user's word on `status`, if they gave one: it replaces the
  /// built-in rule, the fail-fast one included (see fail_fast.h).
  std::optional<Outcome> lookup(int status) const;
};

}  // namespace batchpipe
