// One way of carrying a batch somewhere (a command, an HTTP endpoint): a
// single attempt, with no retries of its own. The delivery engine retries.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "base/clock.h"
#include "batch/batch_encoder.h"
#include "deliver/retry_policy.h"

namespace batchpipe {

/// The identity of a request: which batch it carries records of, its own id
/// and which attempt this is. A part of a batch (a half after a 413, the
/// records a reply asked to send again) is a request of its own: it keeps the
/// batch's number but has its own id ("<batch id>.<n>"). Anything a transport
/// caches per request (a compressed body) is keyed by `batch_id`, never by
/// `batch`.
struct AttemptInfo {
  uint64_t batch = 0;    ///< the batch's number
  uint32_t attempt = 0;  ///< 1-based, counting every request of the batch
  std::string batch_id;  ///< the request's id: the same on every attempt of it, unique across runs
};

/// How the delivery engine cuts an attempt short. The attempt polls wake_fd()
/// and, whenever it becomes readable, calls check(): an attempt must end once
/// cancelled() or once deadline() has passed.
class AttemptControl {
 public:
  AttemptControl();
  ~AttemptControl();
  AttemptControl(const AttemptControl&) = delete;
  AttemptControl& operator=(const AttemptControl&) = delete;

  // Attempt side.
  int wake_fd() const { return wake_fd_; }
  /// Clears the wake-up; call after wake_fd() was readable.
  void check();
  bool cancelled() const { return cancelled_; }
  /// The earlier of the attempt's own timeout and the shutdown grace deadline.
  std::optional<TimePoint> deadline() const;
  /// Why an attempt that reached deadline() was cut short, e.g. "timed out after 5s".
  std::string deadline_reason() const;

  // Engine side.
  /// Starts the clock of a new attempt that may last `timeout` (zero: no limit).
  void begin(Duration timeout);
  /// Stops the attempt's own clock, so that only the grace deadline applies:
  /// for a wait before the request is sent (--rate).
  void pause() { attempt_deadline_ = 0; }
  /// Starts the attempt's clock again, with the timeout of begin(): for a
  /// request sent after a wait, or sent again to another URL.
  void restart() { begin(timeout_); }
  /// Running attempts must end by `when` (the shutdown grace).
  void limit(TimePoint when);
  /// Running and later attempts end at once.
  void cancel();

 private:
  void wake();

  int wake_fd_;
  Duration timeout_{0};
  std::atomic<int64_t> attempt_deadline_{0};  ///< steady ns; 0: none
  std::atomic<int64_t> grace_deadline_{0};    ///< steady ns; 0: none
  std::atomic<bool> cancelled_{false};
};

class Transport {
 public:
  virtual ~Transport() = default;
  /// Tries once to deliver `batch`. Returns promptly once `control` says so.
  virtual AttemptResult attempt(const Batch& batch, const AttemptInfo& info, AttemptControl& control) = 0;
  /// Memory the transport keeps between attempts (a compressed body, the
  /// last reply), counted against --max-buffer. Called from another thread.
  virtual uint64_t held_bytes() const { return 0; }
  /// How much attempting `batch` may add to held_bytes() (a compressed body
  /// no larger than the batch): the budget keeps room for it while the
  /// batch waits for a worker.
  virtual uint64_t would_hold(const Batch& batch) const {
    (void)batch;
    return 0;
  }
};

}  // namespace batchpipe
