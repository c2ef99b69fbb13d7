#include "pipeline.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <thread>

#include <fmt/format.h>

#include "batch/backlog.h"
#include "batch/batcher.h"
#include "batch/record_id.h"
#include "commit/checkpointer.h"
#include "input/block_queue.h"
#include "input/input_reader.h"
#include "json/line_checker.h"
#include "json/validation_pool.h"
#include "base/diagnostics.h"
#include "base/memory.h"
#include "report/reporter.h"
#include "base/signals.h"
#include "base/startup_error.h"
#include "report/stats.h"

namespace batchpipe {
namespace {

/// Blocks in flight between the threads: one being read, two waiting, and
/// one more for each validation thread.
constexpr size_t kPoolBlocks = 3;

/// Read blocks of 1 MiB, or smaller so that the read-ahead takes a quarter
/// of a small --max-buffer at most (it counts against it).
size_t read_block_size(uint64_t budget, size_t blocks) {
  return static_cast<size_t>(std::clamp<uint64_t>(budget / (4 * blocks), 64 << 10, 1 << 20));
}

/// A latch the loop raises to stop the input thread; stays readable once raised.
class StopLatch {
 public:
  StopLatch() : fd_(checked_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "an eventfd")) {}
  ~StopLatch() { ::close(fd_); }
  int fd() const { return fd_; }
  void raise() {
    uint64_t one = 1;
    (void)!::write(fd_, &one, sizeof one);
  }

 private:
  int fd_;
};

void read_all(InputReader& reader, BlockQueue& queue) {
  for (;;) {
    InputBlock* block = queue.acquire();
    if (!reader.next(*block)) {
      queue.release(block);
      break;
    }
    queue.publish(block);
  }
  queue.close();
}

/// Waits until input is ready (if `input_fd` >= 0), a signal arrives, the
/// sink has news or the open batch is due.
void wait_for_events(int input_fd, int sink_fd, std::optional<TimePoint> deadline) {
  pollfd fds[3] = {{input_fd, POLLIN, 0}, {signals::fd(), POLLIN, 0}, {sink_fd, POLLIN, 0}};
  (void)::poll(fds, 3, poll_timeout(deadline));  // EINTR: a signal, which the caller looks for anyway
  if (fds[2].revents) {
    uint64_t count;
    (void)!::read(sink_fd, &count, sizeof count);
  }
}

/// Says, at most once a second, how many records --on-full drop has dropped.
class DropReporter {
 public:
  void dropped(uint64_t total, TimePoint now) {
    if (total == 0 || now < next_) return;
    next_ = now + std::chrono::seconds(1);
    diag::warning(fmt::format("--max-buffer is full: {} record{} dropped so far (--on-full drop)", total,
                              total == 1 ? "" : "s"));
  }
  /// The last word, with the total, whenever records were dropped.
  void finish(uint64_t total) {
    if (total > 0)
      diag::warning(fmt::format("--max-buffer was full: {} record{} dropped (--on-full drop)", total,
                                total == 1 ? "" : "s"));
  }

 private:
  TimePoint next_{};
};

/// Checks a block's lines and batches its records, charging each to the
/// budget; with --on-full drop, a record that does not fit is dropped.
/// Returns false when --on-invalid fail stops the run at one of them.
template <class MakeRoom>
bool add_block(const InputBlock& block, uint64_t source, LineChecker& checker, Batcher& batcher, Backlog& backlog,
               const BodyFormat& format, bool drop, Metrics& metrics, CheckpointLedger* ledger, MakeRoom&& make_room) {
  TimePoint now = Clock::now();
  uint64_t records = 0, dropped = 0, rejected = checker.rejected(), replaced = checker.replaced();
  bool starved = false;  // make_room() could not help: drop the rest of the block at once
  bool go_on = checker.check(block, [&](std::string_view text, uint64_t line, const LineSpan& span) {
    uint64_t cost = record_cost(text.size(), format);
    // A record costs a little more than its share of a batch (--max-bytes
    // may equal --max-buffer): one alone may exceed the budget, and is then
    // still taken when no other record is held, as --on-full block takes it.
    auto fits = [&] { return backlog.fits(cost) || (batcher.empty() && backlog.held(Held::Sink) == 0); };
    if (drop && !fits() && !starved) {
      make_room();  // what the sink has finished with frees the budget first
      starved = !fits();
    }
    if (drop && !fits()) {
      ++dropped;
      return;
    }
    // A record larger than a read block (a giant line) gives the block's
    // pages back as it is copied: it is never held twice.
    batcher.add(text, {block.input, line, block.line_offset(span), block.line_end(span), source}, now,
                text.size() >= kMappedBytes ? &release_pages : nullptr);
    backlog.set(Held::Batcher, batcher.memory());
    backlog.add_records(1);
    if (ledger) ledger->added();
    ++records;
  });
  // After a line that stops the run nothing of the block counts as read.
  if (ledger && go_on) ledger->consumed(block.input, block.identity, block.end_offset(), block.end_line);
  metrics.records.add(records);
  metrics.dropped.add(dropped);
  metrics.lines.add(block.line_count);
  metrics.input_bytes.add(block.input_bytes);
  metrics.invalid.add(checker.rejected() - rejected);  // as it happens, for --metrics-file and --progress
  metrics.replaced.add(checker.replaced() - replaced);
  return go_on;
}

/// The key {record_id} names the block's records by (see record_id.h).
uint64_t record_source(const InputBlock& block, uint64_t run_key) {
  const FileIdentity& f = block.identity;
  return f.regular ? file_source(f.device, f.inode, f.fingerprint, f.fingerprint_bytes)
                   : pipe_source(run_key, block.input);
}

/// Hands closed batches to the sink while it takes them; their memory moves
/// from the Batcher's account to the sink's.
void deliver_closed(Batcher& batcher, Sink& sink, Backlog& backlog, Metrics& metrics) {
  while (batcher.has_closed() && sink.accepting()) {
    Batch b = batcher.take();
    backlog.add(Held::Sink, b.charged);
    backlog.set(Held::Batcher, batcher.memory());
    metrics.batches.add();
    metrics.output_bytes.add(b.bytes.size());
    sink.deliver(std::move(b));
  }
}

/// Prints the reader's messages about the input, in input order.
void say(const std::vector<InputNote>& notes) {
  for (const InputNote& n : notes) n.error ? diag::error(n.text) : diag::warning(n.text);
}

ExitStatus status_for(int sig) {
  return sig == SIGINT ? ExitStatus::Interrupted : sig == SIGHUP ? ExitStatus::Hangup : ExitStatus::Terminated;
}

}  // namespace

ExitStatus run_pipeline(const Config& config, Sink& sink, Metrics& metrics, Reporter* reporter,
                        Checkpointer* checkpoint) {
  Batcher batcher({config.batch_size, config.max_bytes, config.interval}, config.format);
  const uint64_t run_key = random_run_key();  // names the records of pipes for {record_id}
  Backlog backlog(config.max_buffer);
  // 1: the loop validates; --input text: nothing to validate.
  const size_t validators = config.threads > 1 && !config.text_input ? config.threads : 0;
  const size_t block_size = read_block_size(config.max_buffer, kPoolBlocks + validators);
  metrics.buffer_limit.set(static_cast<int64_t>(config.max_buffer));
  const bool drop = config.drop_when_full;
  DropReporter drops;
  // The accounts that change outside the loop's own steps: what the input
  // thread has read ahead and what the sink's workers hold.
  BlockQueue* blocks = nullptr;  // set once the queue exists
  auto count_others = [&] {
    if (blocks) backlog.set(Held::Input, blocks->held_bytes());
    backlog.set(Held::SinkBuffers, sink.held_bytes());
  };
  auto show_budget = [&] {
    count_others();
    // With no record held, what is left (a spare buffer, the empty open
    // batch) is not shown: the gauge falls to 0 as the run drains.
    metrics.buffered_bytes.set(static_cast<int64_t>(backlog.records() ? backlog.used() : 0));
    metrics.buffered_records.set(static_cast<int64_t>(backlog.records()));
  };
  ExitStatus signalled = ExitStatus::Success;
  CheckpointLedger* ledger = checkpoint ? &checkpoint->ledger() : nullptr;
  // With --checkpoint, a committed batch leaves the budget once the
  // checkpoint that covers it is written: what a crash would send again
  // stays within --max-buffer.
  uint64_t unwritten_cost = 0, unwritten_records = 0;
  sink.on_spent([&](Batch&& b, bool settled) {
    if (ledger) {
      if (!settled && !ledger->frozen() && signalled == ExitStatus::Success && !sink.reader_gone())
        diag::warning(fmt::format("--checkpoint: positions stay before batch {} for the rest of the run; the next "
                                  "run sends its records again, and those after them",
                                  b.number));
      ledger->committed(b, settled);
      unwritten_cost += batch_cost(b);
      unwritten_records += b.records;
      backlog.add(Held::Unwritten, batch_cost(b));
    } else {
      backlog.remove_records(b.records);
    }
    backlog.remove(Held::Sink, b.charged);
    batcher.recycle(std::move(b));
    backlog.set(Held::Batcher, batcher.memory());
    show_budget();
  });
  // Writes the checkpoint when due (or `now_anyway`) and releases what it covers.
  auto write_checkpoint = [&](bool now_anyway) {
    if (!checkpoint) return;
    TimePoint now = Clock::now();
    bool dirty = checkpoint->dirty();
    if (dirty && !now_anyway && now < *checkpoint->deadline()) return;
    if (dirty) checkpoint->save(now);  // a failure is said; the budget moves on regardless
    if (!checkpoint->dirty() || checkpoint->failing()) {
      backlog.remove(Held::Unwritten, unwritten_cost);
      backlog.remove_records(unwritten_records);
      unwritten_cost = unwritten_records = 0;
      show_budget();
    }
  };
  // The budget is spent when one more read block would not fit: a block is
  // taken whole, so the budget is not overshot by one. Blocks as large as
  // the last one taken are expected (records longer than a block make
  // blocks of their size), and room is left for a second: the part of a
  // line the reader carries to its next block is not in a block yet.
  size_t last_block = block_size;
  auto spent = [&] {
    count_others();
    return !backlog.fits(2 * std::max(block_size, last_block));
  };
  // Whether to take more input now: not while closed batches wait for the
  // sink or the budget is spent (the producer then waits: backpressure),
  // unless --on-full drop asks to keep reading and drop instead. With no
  // record held anywhere, reading goes on whatever the figures say (a record
  // larger than what is left of the budget is taken alone).
  auto room = [&] {
    bool none_held = batcher.empty() && backlog.held(Held::Sink) == 0 && backlog.held(Held::Unwritten) == 0;
    return drop || (!batcher.has_closed() && (!spent() || none_held));
  };
  // The open batch alone holds the budget when nothing else is held: it is
  // closed early, or nothing would move.
  auto close_open_if_alone = [&] {
    if (!batcher.has_closed() && sink.idle()) batcher.flush();
  };
  // --on-full drop, before a record is dropped: what the sink has finished
  // with is committed first, so that only a sink that is behind drops.
  auto make_room = [&] {
    close_open_if_alone();
    deliver_closed(batcher, sink, backlog, metrics);
    sink.flush();
  };
  StopLatch stop;
  BlockQueue queue(kPoolBlocks + validators, validators > 0);
  blocks = &queue;
  // A line of text grows by its quotes at least: longer ones cannot fit.
  uint64_t longest_line = batcher.max_record_size() - (config.text_input ? std::min<uint64_t>(2, batcher.max_record_size()) : 0);
  ReaderOptions reader_options{config.inputs, longest_line, block_size,
                               config.text_input, config.follow, {}};
  if (checkpoint) reader_options.resume = checkpoint->resume_points();
  InputReader reader(std::move(reader_options), stop.fd());
  LineChecker checker(config.on_invalid, batcher.max_record_size(), config.inputs, config.text_input,
                      {config.format.body_size(1, 0), config.format.frame_words()});
  signals::on_info([&] {
    print_stats(metrics, Clock::now() - metrics.started,
                config.stats == StatsFormat::None ? StatsFormat::Human : config.stats);
  });
  signals::block_in_this_thread(true);  // signals are the loop's, not the input thread's
  std::thread input([&] { read_all(reader, queue); });
  signals::block_in_this_thread(false);
  ValidationPool validation(queue, validators);

  ExitStatus input_status = ExitStatus::Success;  // of the inputs, as far as the run got
  bool input_done = false, stopping = false, stopped_at_invalid = false;
  // Signals, and a sink that broke: looked at every turn and after every
  // block, so that a reader that keeps up cannot keep them waiting.
  auto look_around = [&] {
    for (int sig : signals::take()) {
      if (sig == SIGUSR1) {
        batcher.flush();
      } else if (sig == SIGUSR2) {
        signals::report_info_if_asked();
      } else {
        sink.shutdown(signalled != ExitStatus::Success);  // a second signal ends the grace
        if (signalled == ExitStatus::Success) signalled = status_for(sig);
        stopping = true;
        stop.raise();
      }
    }
    if (sink.broken() && !stopping) {
      stopping = true;  // what was read still goes to the sink, which accounts for it
      stop.raise();
    }
  };
  for (;;) {
    sink.flush();
    look_around();  // also signals that came while flush() was blocked
    if (input_done && !batcher.has_closed() && sink.idle()) break;
    write_checkpoint(spent() && unwritten_cost > 0);
    if (!drop && spent()) close_open_if_alone();  // (drop mode does it in make_room)
    deliver_closed(batcher, sink, backlog, metrics);
    // Nothing held back while we wait: a sink that keeps batches until
    // flush() (stdout) may hold the very batch whose commit frees the budget,
    // and with the budget spent no input would come to wake us. Likewise
    // for a checkpoint not yet written that covers it.
    sink.flush();
    write_checkpoint(spent() && unwritten_cost > 0);
    bool want_input = !input_done && room();
    std::optional<TimePoint> deadline = batcher.deadline();
    if (reporter && reporter->deadline() && (!deadline || *reporter->deadline() < *deadline))
      deadline = reporter->deadline();
    if (checkpoint && checkpoint->dirty() && (!deadline || *checkpoint->deadline() < *deadline))
      deadline = checkpoint->deadline();
    wait_for_events(want_input ? queue.ready_fd() : -1, sink.event_fd(), deadline);
    look_around();
    while (room()) {
      InputBlock* block = queue.pop();
      if (!block) break;
      last_block = block->buffer.size();
      if (!stopped_at_invalid) {  // what was read after a bad line that stopped the run is dropped, unsaid
        say(block->notes_before);
        input_status = combine(input_status, block->status_before);
        if (ledger && block->begins) ledger->began(block->input, block->identity, block->offset, block->first_line - 1);
        if (add_block(*block, record_source(*block, run_key), checker, batcher, backlog, config.format, drop, metrics,
                      ledger, make_room)) {
          say(block->notes_after);
          input_status = combine(input_status, block->status_after);
        } else {
          stopped_at_invalid = true;
          stop.raise();
        }
      }
      queue.release(block);
      if (drop) drops.dropped(metrics.dropped.get(), Clock::now());
      look_around();
      batcher.tick(Clock::now());
      if (reporter) reporter->tick(Clock::now());
      deliver_closed(batcher, sink, backlog, metrics);
    }
    if (!input_done && queue.finished()) {
      input_done = true;
      batcher.flush();
    }
    batcher.tick(Clock::now());
    if (reporter) reporter->tick(Clock::now());
    deliver_closed(batcher, sink, backlog, metrics);
    show_budget();
  }
  input.join();
  write_checkpoint(true);
  drops.finish(metrics.dropped.get());
  signals::on_info(nullptr);
  // A line cut short is worth a word where what was read is otherwise
  // accounted for (a signal, --on-error stop); after a bad line or a broken
  // stdout nothing further is delivered anyway.
  bool accounted = signalled != ExitStatus::Success || sink.status() == ExitStatus::DeliveryStopped;
  if (accounted && !reader.unfinished().empty()) diag::warning(reader.unfinished());
  metrics.undelivered.add(sink.undelivered_records());
  ExitStatus status = combine(combine(input_status, checker.status()), sink.status());
  if (metrics.dropped.get()) status = combine(status, ExitStatus::Undelivered);
  return combine(status, signalled);
}

}  // namespace batchpipe
