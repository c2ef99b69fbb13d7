// Where closed batches go. The event loop talks to every sink through this.
#pragma once

#include <functional>

#include "batch/batch_encoder.h"
#include "base/exit_status.h"

namespace batchpipe {

class Sink {
 public:
  virtual ~Sink() = default;

  /// Takes a closed batch, whatever it already holds: how much is held is
  /// the byte budget's business (the loop's), not the sink's. A sink may
  /// hold batches back until flush().
  virtual void deliver(Batch&& batch) = 0;

  /// Sends whatever is held back; the loop calls this before it waits.
  virtual void flush() = 0;

  /// True once the sink can deliver nothing more; the run then ends.
  virtual bool broken() const = 0;

  /// Success, or the status for what could not be delivered.
  virtual ExitStatus status() const = 0;

  /// Records handed in that were not delivered.
  virtual uint64_t undelivered_records() const = 0;

  /// True when everything handed in has been delivered or given up.
  virtual bool idle() const { return true; }

  /// Readable when idle() or held_bytes() may have changed (a batch
  /// finished); -1 if they never do.
  virtual int event_fd() const { return -1; }

  /// The run is ending on a signal: no new retries, a grace for what is in
  /// flight. `immediately` (a second signal) ends the grace now.
  virtual void shutdown(bool immediately) { (void)immediately; }

  /// Bytes the sink holds beyond the batches themselves (--map answers
  /// waiting for their turn), counted against --max-buffer.
  virtual uint64_t held_bytes() const { return 0; }

  /// True when the reader of our output went away (EPIPE): the run should
  /// end quietly, by SIGPIPE, as cat's would.
  virtual bool reader_gone() const { return false; }

  /// Called with each batch the sink is done with, in batch order, so its
  /// buffer can be reused and the checkpoint moved. `settled`: delivered
  /// or dead-lettered; false: not delivered (given up without a dead-letter
  /// file, cut short by a signal, a reader gone, a broken stdout), so a
  /// later run should read it again.
  void on_spent(std::function<void(Batch&&, bool settled)> spent) { spent_ = std::move(spent); }

 protected:
  void spend(Batch&& b, bool settled) {
    if (spent_) spent_(std::move(b), settled);
  }

 private:
  std::function<void(Batch&&, bool)> spent_;
};

}  // namespace batchpipe
