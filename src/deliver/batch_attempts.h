// One batch's attempts, as a worker makes them: try, and on failure ask the
// retry policy whether and when to try again, until the batch is delivered
// or given up. Time and waiting come from an AttemptEnv, so the rules are
// tested with a fake transport and a fake clock, without sleeping.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "deliver/retry_policy.h"
#include "deliver/transport.h"
#include "metrics.h"

namespace batchpipe {

/// What the attempts at a batch need from the engine around them.
class AttemptEnv {
 public:
  virtual ~AttemptEnv() = default;
  virtual TimePoint now() = 0;
  /// Why attempt `attempt` (1-based) must not be made ("" if it may): delivery
  /// stopped, the run interrupted, or the shutdown grace over.
  virtual std::string why_not(uint32_t attempt) = 0;
  /// Waits `delay` before a retry; false if the run began to shut down (or
  /// delivery stopped) meanwhile.
  virtual bool wait(Duration delay) = 0;
  /// Whether any batch of the run has been delivered (see fail_fast.h).
  virtual bool delivered_any() { return false; }
};

struct AttemptOptions {
  RetryOptions retry;
  Duration timeout{0};  ///< per attempt; zero = none
  bool verbose = false; ///< -v: a line for every attempt
};

/// How a batch's attempts ended.
struct BatchResult {
  bool delivered = false;
  bool permanent = false;  ///< given up because the failure will not get better
  bool stops_run = false;  ///< given up for a reason every later batch shares: stop delivering (fail_fast.h)
  std::string fix;         ///< with stops_run: what the user should change
  std::string reason;      ///< why it was given up
  UniqueFd output;         ///< the delivering attempt's output (--exec), if any
  uint32_t attempts = 0;
};

/// Attempts `batch` until it is delivered or given up. `id` is the batch's
/// id, the same on every attempt. Counts attempts, retries and latencies in
/// `metrics`; says on stderr what is retried.
BatchResult attempt_batch(const Batch& batch, const std::string& id, Transport& transport, AttemptControl& control,
                          AttemptEnv& env, const AttemptOptions& options, std::mt19937_64& rng, Metrics& metrics);

/// "batch 7 (1000 records)", as messages name a batch.
std::string describe_batch(const Batch& batch);

}  // namespace batchpipe
