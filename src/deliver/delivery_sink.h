// The delivery engine every non-stdout sink shares: a bounded queue of
// batches, delivered one at a time and in order on a thread of its own, with
// retries, backoff, the error policy, the dead-letter file and the shutdown
// grace.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "deliver/dead_letter.h"
#include "deliver/retry_policy.h"
#include "metrics.h"
#include "sinks/sink.h"
#include "deliver/transport.h"

namespace batchpipe {

struct DeliveryOptions {
  RetryOptions retry;
  Duration timeout{0};                           ///< per attempt; zero = none
  bool stop_on_error = false;                    ///< --on-error stop
  Duration grace = std::chrono::seconds(10);     ///< --grace
  size_t queue_batches = 4;                      ///< closed batches waiting before input pauses
  bool verbose = false;                          ///< -v: a line for every attempt
  std::vector<std::string> inputs;               ///< input names, for "lines N-M" messages
};

class DeliverySink : public Sink {
 public:
  DeliverySink(std::unique_ptr<Transport> transport, DeliveryOptions options,
               std::optional<DeadLetter> dead_letter, Metrics& metrics);
  ~DeliverySink() override;

  void deliver(Batch&& batch) override;
  void flush() override {}
  bool broken() const override;
  ExitStatus status() const override;
  uint64_t undelivered_records() const override;
  bool accepting() const override;
  bool idle() const override;
  int event_fd() const override { return event_fd_; }
  void shutdown(bool immediately) override;

 private:
  void run();
  void handle(const Batch& batch);
  /// Gives a batch up: to the dead-letter file, or reported lost.
  void give_up(const Batch& batch, const std::string& why);
  /// Why attempt `attempt` of a batch must not be made, or "" if it may.
  std::string reason_not_to_try(uint32_t attempt) const;
  /// Waits `delay` unless shutdown comes first; returns false if it did.
  bool wait_before_retry(Duration delay);
  std::string describe(const Batch& batch) const;
  std::string line_range(const Batch& batch) const;

  std::unique_ptr<Transport> transport_;
  DeliveryOptions options_;
  std::optional<DeadLetter> dead_letter_;
  std::string run_id_;
  std::mt19937_64 rng_;
  AttemptControl control_;
  int event_fd_ = -1;
  Metrics& metrics_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Batch> queue_;  ///< the front is being delivered until it is popped
  bool closing_ = false;
  bool shutting_down_ = false;
  bool aborted_ = false;
  bool stopped_ = false;  ///< --on-error stop has fired
  TimePoint grace_end_{};

  // Counters, written by the delivery thread, read under mutex_.
  uint64_t delivered_batches_ = 0;
  uint64_t delivered_records_ = 0;
  uint64_t retries_ = 0;
  uint64_t failed_batches_ = 0;
  uint64_t dead_lettered_ = 0;
  uint64_t lost_ = 0;

  std::thread thread_;
};

}  // namespace batchpipe
