// The delivery engine every non-stdout sink shares. N workers, each with its
// own transport (its own connection or child), take closed batches in input
// order and attempt them, with retries, backoff and the shutdown grace; they
// only report how each batch ended. On the loop thread, flush() puts the
// reports back in batch order (Sequencer) and hands each to the Committer,
// the one place where "done" happens (commit/committer.h).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "commit/committer.h"
#include "commit/stdout_writer.h"
#include "deliver/batch_attempts.h"
#include "deliver/dead_letter.h"
#include "deliver/sequencer.h"
#include "deliver/transport.h"
#include "report/metrics.h"
#include "sinks/sink.h"

namespace batchpipe {

struct DeliveryOptions {
  AttemptOptions attempt;
  bool stop_on_error = false;                    ///< --on-error stop
  Duration grace = std::chrono::seconds(10);     ///< --grace
  std::vector<std::string> inputs;               ///< input names, for "lines N-M" messages
  int output_fd = 1;                             ///< where commands' captured output goes
  std::shared_ptr<const ReplyReader> reader;     ///< reads each answer (_bulk, --map); null: none
  bool answers = false;                          ///< --map: print each record's answer, not the output
  bool answers_with_input = false;               ///< --map-with-input: {"in":record,"out":answer}
  /// --checkpoint: a batch not delivered once the run is shutting down (a
  /// signal) is left for the next run to read again: not dead-lettered,
  /// not counted as lost.
  bool resumable = false;
  /// --spool: a batch's id (Idempotency-Key, {batch_id}) names where its
  /// records lie in the spool, the same in every run (see record_id.h).
  bool positional_ids = false;
  /// Held for the whole run besides the workers: the compressors' state
  /// (--compress, codec_pool.h), counted against the budget from the start.
  uint64_t reserved_bytes = 0;
};

class DeliverySink : public Sink {
 public:
  /// One worker per transport: `transports.size()` batches in flight at most.
  DeliverySink(std::vector<std::unique_ptr<Transport>> transports, DeliveryOptions options,
               std::optional<DeadLetter> dead_letter, Metrics& metrics);
  ~DeliverySink() override;

  /// --spool without --dead-letter: see Committer::keep_refused().
  void keep_refused(DeadLetter file) { committer_.keep_refused(std::move(file)); }

  void deliver(Batch&& batch) override;
  /// Commits, in batch order, every batch whose turn has come.
  void flush() override;
  bool broken() const override;
  ExitStatus status() const override;
  uint64_t undelivered_records() const override { return lost_ + committer_.undelivered_records(); }
  bool idle() const override;
  int event_fd() const override { return event_fd_; }
  void shutdown(bool immediately) override;
  bool reader_gone() const override { return out_.reader_gone(); }
  /// The reserved bytes (compressors), --map answers, what each worker that has taken a batch holds (its
  /// thread, its connection: a fixed amount), the workers' transports' own
  /// buffers (compressed bodies, replies), the part of a split batch each
  /// worker is sending, and room
  /// for the transports' buffers of the next batches the workers take (one
  /// each: a transport holds the buffers of one batch at a time).
  uint64_t held_bytes() const override;

 private:
  struct Report {
    Batch batch;
    BatchResult result;
  };
  struct Worker;
  class Env;

  void work(Worker& worker);
  /// Whether a worker may start the next waiting batch now. With
  /// --checkpoint, once the run shuts down, batches go one at a time, each
  /// after every earlier one has ended: a later batch is never delivered
  /// past one left for the next run (the checkpoint could not cover it).
  bool may_start() const;
  /// With --checkpoint, in the shutdown: `number` is left for the next run,
  /// so no later batch is attempted. Under mutex_.
  void leave_from(uint64_t number);
  /// What the engine's state means for the commit of a batch.
  RunState run_state() const;

  DeliveryOptions options_;
  Metrics& metrics_;
  std::string run_id_;
  std::atomic<uint64_t> answer_bytes_{0};  ///< --map answers finished but not committed
  std::atomic<uint64_t> started_workers_{0};  ///< workers that have taken a batch: they keep what they hold
  int event_fd_ = -1;
  std::vector<std::unique_ptr<Worker>> workers_;

  // Shared with the workers, under mutex_.
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Batch> waiting_;     ///< closed batches no worker has taken yet, in order; as many
                                  ///< as the byte budget lets the loop read ahead
  std::vector<Report> finished_;  ///< reports not yet taken by the commit step
  size_t running_ = 0;            ///< batches a worker is on
  bool closing_ = false;
  bool shutting_down_ = false;
  bool aborted_ = false;
  bool stopped_ = false;          ///< --on-error stop has fired, or a failure every batch shares (fail_fast.h)
  std::atomic<bool> delivered_any_{false};  ///< some batch got through: a name that resolved once is no typo
  TimePoint grace_end_{};
  /// With --checkpoint, in the shutdown: the first batch left for the next
  /// run; the batches after it are not attempted (see may_start()).
  uint64_t left_from_ = UINT64_MAX;

  // The loop thread's own.
  Sequencer<Report> sequencer_;
  StdoutWriter out_;
  Committer committer_;
  uint64_t lost_ = 0;  ///< records handed in after the reader went away
};

}  // namespace batchpipe
