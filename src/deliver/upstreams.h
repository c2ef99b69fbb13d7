// Several --post URLs: which one the next request goes to, and which are put
// aside for a while after failing. Pure: handed the time; the caller locks it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/clock.h"
#include "base/units.h"

namespace batchpipe {

class Upstreams {
 public:
  /// `count` URLs, all healthy. A URL that fails is put aside for
  /// `cooldown`, doubled for each further failure in a row, up to
  /// `max_cooldown` (--retry-delay and --retry-max-delay).
  Upstreams(size_t count, Duration cooldown, Duration max_cooldown);

  /// The URL for a request at `now`, skipping those `tried` (already failed
  /// in this attempt): the next healthy one in turn (round-robin); if none is
  /// healthy, the one whose cool-down ends first, so a batch still has
  /// somewhere to go; nothing once every URL was tried.
  std::optional<size_t> pick(TimePoint now, const std::vector<bool>& tried);

  /// Whether a URL not `tried` is healthy at `now`: then a batch that
  /// failed is sent there at once.
  bool any_healthy(TimePoint now, const std::vector<bool>& tried) const;
  bool healthy(size_t url, TimePoint now) const { return nodes_[url].until <= now; }

  /// A request to `url` found the receiver unwell (no connection, a
  /// timeout, a 5xx): it is put aside from `now` for its cool-down, or
  /// until `retry_after` if the receiver asked for longer (capped at
  /// max_cooldown too). Returns how long.
  Duration failed(size_t url, TimePoint now, std::optional<Duration> retry_after = std::nullopt);

  /// A request to `url` got an answer from a receiver that is up. Returns
  /// whether it had failed before (it is back).
  bool answered(size_t url);

  /// Failures in a row of `url`.
  uint32_t failures(size_t url) const { return nodes_[url].failures; }
  size_t size() const { return nodes_.size(); }

 private:
  struct Node {
    uint32_t failures = 0;
    TimePoint until{};  ///< put aside until then; healthy at or after it
  };
  std::vector<Node> nodes_;
  size_t next_ = 0;  ///< where the round-robin looks first
  Duration cooldown_;
  Duration max_cooldown_;
};

}  // namespace batchpipe
