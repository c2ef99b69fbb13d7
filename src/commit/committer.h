// The commit step: the one place where "done" happens to a batch the delivery
// engine has finished with. On the loop thread, in batch order, it turns a
// batch's report into every side effect: the command's output or --map's
// answers to stdout (through the one StdoutWriter), what failed to the
// dead-letter file, the counters, the messages, and then the batch handed
// back (`spend`) so that the budget, the checkpoint and the buffer move on.
// The workers only attempt and report.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "batch/batch_encoder.h"
#include "commit/stdout_writer.h"
#include "deliver/batch_attempts.h"
#include "deliver/dead_letter.h"
#include "report/metrics.h"

namespace batchpipe {

struct CommitOptions {
  std::vector<std::string> inputs;  ///< input names, for "lines N-M" messages
  bool answers = false;             ///< --map: print each record's answer, not the output
  bool answers_with_input = false;  ///< --map-with-input: {"in":record,"out":answer}
  /// --checkpoint: a batch not delivered once the run is shutting down (a
  /// signal) is left for the next run to read again: not dead-lettered,
  /// not counted as lost. A batch given up without a dead-letter file is
  /// "left for the next run", not "lost", when it came from named inputs
  /// (not stdin): the next run reads it again.
  bool resumable = false;
  /// --spool: what the run read is kept in the spool, stdin included, so
  /// every batch not delivered is left for the next run (said "--spool").
  bool spooled = false;
};

/// What the engine says of the run as a batch is committed.
struct RunState {
  bool shutting_down = false;  ///< a signal came: no retries, the grace runs
  bool stopped = false;        ///< --on-error stop fired, or a failure every batch shares
};

class Committer {
 public:
  /// `spend` takes each batch back once committed; `settled` says it was
  /// delivered or dead-lettered (false: a later run should read it again).
  using Spend = std::function<void(Batch&&, bool settled)>;

  Committer(CommitOptions options, std::optional<DeadLetter> dead_letter, Metrics& metrics, StdoutWriter& out,
            Spend spend);

  /// Commits one batch and how its attempts ended. Batches come in batch order.
  void commit(Batch&& batch, BatchResult& result, RunState state);

  /// Sums up the batches given up untried since the stop, at most once a
  /// second while `idle`, and at once when `last`.
  void say_untried(bool last, bool idle);

  /// --spool without --dead-letter: where records the receiver refused for
  /// good go (DIR/refused.ndjson), so that they neither stop the spool from
  /// freeing what follows them nor are lost. A batch given up for a reason
  /// that may pass (retries spent, a signal, a stop) stays in the spool.
  void keep_refused(DeadLetter file) { refused_.emplace(std::move(file)); }

  /// Writes that would have to wait (a FIFO dead-letter file) may do so until `when`.
  void set_deadline(TimePoint when) {
    if (dead_letter_) dead_letter_->set_deadline(when);
    if (refused_) refused_->set_deadline(when);
  }

  /// Batches not delivered, or with records that were not (the exit status).
  uint64_t failed_batches() const { return failed_batches_; }
  /// Records dead-lettered, lost, left for the next run or never tried.
  uint64_t undelivered_records() const { return dead_lettered_ + lost_ + left_; }

 private:
  /// Records that failed alone in a delivered batch: dead-lettered, each
  /// reason said. False if they could not be saved (lost).
  bool give_up_records(const Batch& batch, const std::vector<RecordFailure>& failed);
  /// A batch not delivered: dead-lettered, or lost. False if lost.
  bool give_up_batch(const Batch& batch, const BatchResult& result, RunState state);
  /// --map: a line for each record that has an answer, in order.
  void print_answers(const Batch& batch, const BatchResult& result);
  std::string line_range(const Batch& batch) const;
  /// With --checkpoint, whether the next run reads `batch` again (it came
  /// from named inputs, not stdin).
  bool resumes(const Batch& batch) const;
  /// What keeps records for the next run, as messages name it: "--checkpoint" or "--spool".
  const char* keeper() const { return options_.spooled ? "--spool" : "--checkpoint"; }
  /// What became of records not delivered and not saved: "left for the
  /// next run (--checkpoint; input lines 3-4)" or "lost (input lines 3-4)".
  std::string not_saved(const Batch& batch) const;
  /// Where records given up are written: the dead-letter file, or with
  /// --spool the refused file when they were refused for good (not for a
  /// stop, a signal or a reason that may pass); null: none.
  DeadLetter* keeper_file(bool refused_for_good);

  CommitOptions options_;
  std::optional<DeadLetter> dead_letter_;
  std::optional<DeadLetter> refused_;  ///< see keep_refused()
  Metrics& metrics_;
  StdoutWriter& out_;
  Spend spend_;

  uint64_t failed_batches_ = 0;
  uint64_t dead_lettered_ = 0;
  uint64_t lost_ = 0;
  uint64_t left_ = 0;             ///< records left for the next run (see CommitOptions::resumable)
  bool said_stop_ = false;
  bool said_left_ = false;        ///< the first batch left at a signal was named
  uint64_t untried_batches_ = 0;  ///< given up untried after the stop was said, summed up by say_untried()
  uint64_t untried_records_ = 0;
  bool untried_lost_ = false;     ///< some of them are lost, not left for the next run
  uint64_t said_untried_ = 0;
  TimePoint next_untried_note_{};
};

}  // namespace batchpipe
