// One batch's attempts, as a worker makes them: try, and on failure ask the
// retry policy whether and when to try again, until the batch is delivered
// or given up. Time and waiting come from an AttemptEnv, so the rules are
// tested with a fake transport and a fake clock, without sleeping.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "deliver/reply_reader.h"
#include "deliver/retry_policy.h"
#include "deliver/status_rules.h"
#include "deliver/transport.h"
#include "report/metrics.h"

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
  /// The memory the attempts hold beyond the batch, now: the body of the
  /// part being sent after a split (one at a time), by pages; 0 at the end.
  virtual void holding(uint64_t bytes) { (void)bytes; }
};

struct AttemptOptions {
  RetryOptions retry;
  Duration timeout{0};  ///< per attempt; zero = none
  bool verbose = false; ///< -v: a line for every attempt
  const ReplyReader* reader = nullptr;  ///< reads the answer to each delivered attempt; null: none
  uint64_t reply_limit = 0;             ///< the largest command output a reader takes (--max-buffer); 0 = any
};

/// A record that failed alone while the rest of its batch was delivered.
struct RecordFailure {
  uint32_t index;      ///< in the batch
  std::string reason;  ///< the receiver's, e.g. "HTTP 400 mapper_parsing_exception: ..."
  int status = 0;      ///< the HTTP status or exit status it failed with; 0: none (a timeout, an item of a reply)
};

/// How a batch's attempts ended.
struct BatchResult {
  bool delivered = false;  ///< the batch went, though some records may have failed alone
  bool permanent = false;  ///< given up because the failure will not get better
  bool stops_run = false;  ///< given up for a reason every later batch shares: stop delivering (fail_fast.h)
  /// Given up (wholly, or the records in `failed`) because the run stopped
  /// trying — a signal's shutdown, the grace over, --on-error stop — not
  /// because the receiver refused them: with --checkpoint on a signal, the
  /// batch is left for the next run rather than dead-lettered.
  bool cut_short = false;
  std::string fix;         ///< with stops_run: what the user should change
  std::string reason;      ///< why it was given up
  int status = 0;          ///< the last attempt's HTTP status or exit status; 0: none
  UniqueFd output;         ///< the delivering attempt's output (--exec), if any
  uint32_t attempts = 0;
  std::vector<RecordFailure> failed;  ///< when delivered: the records that were not, by index
  uint64_t already_stored = 0;        ///< records the receiver had already (_bulk create: 409)
  uint64_t retried_records = 0;       ///< records sent again alone (_bulk 429/5xx items)
  std::string answer;                 ///< --map: the reply holding the answers
  std::vector<std::pair<uint32_t, uint32_t>> answers;  ///< --map: record i's answer in `answer`
};

/// The records `indices` cut in two, the first half first.
std::pair<std::vector<uint32_t>, std::vector<uint32_t>> halves(const std::vector<uint32_t>& indices);

/// Attempts `batch` until it is delivered or given up. `id` is the batch's
/// id, the same on every attempt. With a reply reader, records the answer
/// asks to retry go again alone, as a part with an id of its own ("<id>.1",
/// ...), under the same retry rules; records it rejects fail alone. Counts
/// attempts, retries and latencies in `metrics`; says on stderr what is
/// retried. A request refused with 413, or that the transport marks
/// `bisect` (--bisect-on, --bisect-reply), is split
/// in halves, each a part with its own id and retries, down to single
/// records, which then fail alone with the receiver's reason.
BatchResult attempt_batch(const Batch& batch, const std::string& id, Transport& transport, AttemptControl& control,
                          AttemptEnv& env, const AttemptOptions& options, std::mt19937_64& rng, Metrics& metrics);

/// "batch 7 (1000 records)", as messages name a batch.
std::string describe_batch(const Batch& batch);

}  // namespace batchpipe
