#include "pipeline.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <thread>

#include <fmt/format.h>

#include "batch/backlog.h"
#include "batch/keyed_batcher.h"
#include "batch/route.h"
#include "batch/record_id.h"
#include "cli/record_limit.h"
#include "commit/checkpointer.h"
#include "commit/commit_frontier.h"
#include "input/block_queue.h"
#include "input/input_reader.h"
#include "input/read_room.h"
#include "json/line_checker.h"
#include "json/record_fields.h"
#include "json/validation_pool.h"
#include "base/diagnostics.h"
#include "base/memory.h"
#include "report/reporter.h"
#include "base/signals.h"
#include "base/startup_error.h"
#include "report/stats.h"
#include "spool/spool.h"
#include "spool/spool_reader.h"
#include "spool/spool_writer.h"

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

template <class Reader>
void read_all(Reader& reader, BlockQueue& queue) {
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
/// sink has news, the input thread waits for room, or the open batch is due.
void wait_for_events(int input_fd, int sink_fd, int room_fd, std::optional<TimePoint> deadline) {
  pollfd fds[4] = {{input_fd, POLLIN, 0}, {signals::fd(), POLLIN, 0}, {sink_fd, POLLIN, 0}, {room_fd, POLLIN, 0}};
  (void)::poll(fds, 4, poll_timeout(deadline));  // EINTR: a signal, which the caller looks for anyway
  for (int i : {2, 3}) {
    if (!fds[i].revents) continue;
    uint64_t count;
    (void)!::read(fds[i].fd, &count, sizeof count);
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

/// The open keys and their peak, for --stats and the metrics.
void show_open_keys(const KeyedBatcher& batcher, Metrics& metrics) {
  auto open = static_cast<int64_t>(batcher.open_keys());
  metrics.open_keys.set(open);
  if (open > metrics.open_keys_peak.get()) metrics.open_keys_peak.set(open);
}

/// Routing by field: each record's key, from its own fields, and the route
/// of that key (see batch/route.h); with a --bulk-action that takes record
/// fields, each record's own action line.
class RecordRouter {
 public:
  explicit RecordRouter(std::optional<Router> router) : router_(std::move(router)) {}
  /// True when records are looked at: batches may then close out of input order.
  bool routes() const { return router_.has_value(); }
  /// The route of `record`, read at `now`: that of its key's open batch, or
  /// a new one (null: the run's own). Its action line, if any, is action().
  std::shared_ptr<const Route> route(std::string_view record, std::time_t now, const KeyedBatcher& batcher) {
    if (!router_) return nullptr;
    fields_.reset(record);
    if (!router_->render_action(fields_, now, action_, error_)) return failed(error_);
    if (!router_->routes()) return nullptr;
    router_->render(fields_, now, key_, error_);
    if (auto open = batcher.open_route(key_)) return open;
    return router_->make_route(key_, error_);
  }
  /// The action line route() rendered for its record (empty: none).
  std::string_view action() const { return action_; }
  /// The route of a record that cannot go with its key: it fails alone, saying `why`.
  std::shared_ptr<const Route> failed(const std::string& why) {
    if (!router_) return nullptr;
    action_.clear();
    key_.assign(1, '\x02');
    key_ += why;
    return router_->make_route(key_, why);
  }

 private:
  std::optional<Router> router_;
  RecordFields fields_;
  std::string key_, error_, action_;
};

/// Checks a block's lines and batches its records, charging each to the
/// budget; with --on-full drop, a record that does not fit is dropped.
/// Returns false when --on-invalid fail stops the run at one of them.
template <class MakeRoom>
bool add_block(const InputBlock& block, uint64_t source, LineChecker& checker, KeyedBatcher& batcher, Backlog& backlog,
               const BodyFormat& format, bool drop, uint64_t& dropped_total, Metrics& metrics, CheckpointLedger* ledger,
               RecordRouter& router, MakeRoom&& make_room) {
  TimePoint now = Clock::now();
  std::time_t wall = router.routes() ? std::time(nullptr) : 0;
  uint64_t records = 0, dropped = 0, rejected = checker.rejected(), replaced = checker.replaced();
  bool starved = false;  // make_room() could not help: drop the rest of the block at once
  bool go_on = checker.check(block, [&](std::string_view text, uint64_t line, const LineSpan& span) {
    std::shared_ptr<const Route> route = router.route(text, wall, batcher);
    uint64_t cost = record_cost(text.size(), format) + (router.action().empty() ? 0 : router.action().size() + 1);
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
    Position at{block.input, line, block.line_offset(span), block.line_end(span), source};
    auto copied = text.size() >= kMappedBytes ? &release_pages : nullptr;
    if (!batcher.add(route, text, at, now, copied, router.action()))  // only a --wrap or --bulk-action can refuse it
      batcher.add(router.failed(router.action().empty()
                                    ? "the record is too large for a batch with its key's --wrap or --bulk-action"
                                    : "the record with its --bulk-action line is larger than --max-bytes"),
                  text, at, now, copied);
    backlog.set(Held::Batcher, batcher.memory());
    backlog.add_records(1);
    if (batcher.open_keys() > static_cast<uint64_t>(metrics.open_keys_peak.get())) show_open_keys(batcher, metrics);
    if (ledger) ledger->added();
    ++records;
  });
  // After a line that stops the run nothing of the block counts as read.
  if (ledger && go_on) ledger->consumed(block.input, block.identity, block.end_offset(), block.end_line);
  metrics.records.add(records);
  metrics.dropped.add(dropped);  // with the --spool writer's, which says its own
  dropped_total += dropped;
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

/// Hands every closed batch to the sink at once: a batch that waits for a
/// worker waits there, where it is counted like the rest. Its memory moves
/// from the batcher's account to the sink's.
void deliver_closed(KeyedBatcher& batcher, Sink& sink, Backlog& backlog, Metrics& metrics, CheckpointLedger* ledger,
                    CommitFrontier* frontier) {
  while (batcher.has_closed()) {
    Batch b = batcher.take();
    if (ledger) ledger->handed(b);
    if (frontier) frontier->handed(b.first_seq);
    backlog.add(Held::Sink, b.charged);
    backlog.set(Held::Batcher, batcher.memory());
    metrics.batches.add();
    metrics.output_bytes.add(b.bytes.size());
    sink.deliver(std::move(b));
  }
  show_open_keys(batcher, metrics);
}

/// Prints the reader's messages about the input, in input order.
void say(const std::vector<InputNote>& notes) {
  for (const InputNote& n : notes) n.error ? diag::error(n.text) : n.loud ? diag::report(n.text) : diag::warning(n.text);
}

ExitStatus status_for(int sig) {
  return sig == SIGINT ? ExitStatus::Interrupted : sig == SIGHUP ? ExitStatus::Hangup : ExitStatus::Terminated;
}

/// The loop, as an object: what one run holds, and the steps of one turn.
class Pipeline {
 public:
  Pipeline(const Config& config, Sink& sink, Metrics& metrics, Reporter* reporter, Checkpointer* checkpoint,
           Spool* spool);
  ExitStatus run();

 private:
  // The steps of a turn, in the order run() takes them.
  void look_around();
  void save_checkpoint(bool now_anyway);
  void deliver();
  void hand_over();
  void wait();
  void take_input();
  void tick();
  ExitStatus finish();

  /// The commit step hands each batch back here, in batch order.
  void spent(Batch&& b, bool settled);
  /// Whether to take more input now (see the definition).
  bool room();
  void close_open_if_alone();
  void make_room();
  void show_budget();
  /// --spool with routing: tells the spool how far every record is committed.
  void advance_spool() {
    if (!spool_frontier_) return;  // (a frozen spool ignores it)
    if (auto end = spool_frontier_->advance(batcher_.oldest_held_seq())) spool_->committed(*end);
  }
  /// The accounts that change outside the loop's own steps: what the input
  /// thread has read ahead and what the sink's workers hold. Tells the
  /// input thread what the rest holds.
  void count_others();
  /// Stops the input thread (the stop latch, and a wait for room).
  void stop_input();
  /// The budget is spent when one more read block would not fit (see the definition).
  bool budget_spent();
  /// A write is wanted before its time: kCheckpointBytes committed since
  /// the last one, or the budget spent with some of it waiting for a write.
  bool budget_waits_for_checkpoint() {
    return unwritten_cost_ >= kCheckpointBytes || (budget_spent() && unwritten_cost_ > 0);
  }

  const Config& config_;
  Sink& sink_;
  Metrics& metrics_;
  Reporter* reporter_;
  Checkpointer* checkpoint_;
  CheckpointLedger* ledger_;
  Spool* spool_;             ///< --spool: the inputs pass through it
  /// --spool with routing by field: batches commit out of input order, and
  /// a segment goes only once every record in it is committed.
  std::unique_ptr<CommitFrontier> spool_frontier_;
  const RecordLimit limit_;  ///< the one record limit, handed down to the reader, the checker and the batcher
  KeyedBatcher batcher_;
  RecordRouter router_;
  const uint64_t run_key_;   ///< names the records of pipes for {record_id}
  Backlog backlog_;
  const bool drop_;          ///< --on-full drop
  DropReporter drops_;
  uint64_t dropped_ = 0;  ///< by --on-full drop here (the --spool writer counts its own)
  StopLatch stop_;
  ReadRoom read_room_;       ///< the budget as the input thread sees it
  const size_t validators_;  ///< 0: the loop validates; --input text: nothing to validate
  const size_t block_size_;  ///< of a read block (read_block_size)
  size_t last_block_;        ///< the size of the last block taken
  BlockQueue queue_;
  InputReader reader_;
  std::unique_ptr<SpoolWriter> spool_writer_;  ///< --spool: the inputs into the spool...
  std::unique_ptr<SpoolReader> spool_reader_;  ///< ...and the spool, read in their stead
  LineChecker checker_;
  // With --checkpoint, a committed batch leaves the budget once the
  // checkpoint that covers it is written: what a crash would send again
  // stays within --max-buffer.
  uint64_t unwritten_cost_ = 0, unwritten_records_ = 0;
  ExitStatus signalled_ = ExitStatus::Success;
  ExitStatus input_status_ = ExitStatus::Success;  ///< of the inputs, as far as the run got
  bool input_done_ = false, stopping_ = false, stopped_at_invalid_ = false;
};

ReaderOptions reader_options(const Config& config, const RecordLimit& limit, size_t block_size,
                             Checkpointer* checkpoint) {
  ReaderOptions o{config.inputs, limit.line, block_size, config.text_input, config.follow, {}};
  if (checkpoint) o.resume = checkpoint->resume_points();
  o.rotate_wait = config.rotate_wait;
  return o;
}

/// The run's Router when its templates take values from records (cli.cc
/// has checked they parse); nothing otherwise.
std::optional<Router> make_router(const Config& config) {
  std::string error;
  std::optional<Router> router = Router::make(config.routes, error);
  if (!router) throw StartupError(error);
  if (!router->routes() && !router->per_record_action()) return std::nullopt;
  return router;
}

Pipeline::Pipeline(const Config& config, Sink& sink, Metrics& metrics, Reporter* reporter, Checkpointer* checkpoint,
                   Spool* spool)
    : config_(config),
      sink_(sink),
      metrics_(metrics),
      reporter_(reporter),
      checkpoint_(checkpoint),
      ledger_(checkpoint ? &checkpoint->ledger() : nullptr),
      spool_(spool),
      // The spool holds records, --input text lines already quoted: read back, they are JSON.
      limit_(RecordLimit::of(config.max_bytes, config.format, config.text_input && !spool)),
      batcher_({config.batch_size, config.max_bytes, config.interval}, config.format, config.max_keys),
      router_(make_router(config)),
      run_key_(random_run_key()),
      backlog_(config.max_buffer),
      drop_(config.drop_when_full && !spool),  // with a spool, --on-full is the spool's
      read_room_(config.max_buffer, !config.drop_when_full, &queue_),
      validators_(config.threads > 1 && !config.text_input ? config.threads : 0),
      block_size_(read_block_size(config.max_buffer, kPoolBlocks + validators_)),
      last_block_(block_size_),
      queue_(kPoolBlocks + validators_, validators_ > 0),
      reader_(reader_options(config, limit_, block_size_, checkpoint), stop_.fd(), &read_room_),
      // What the spool gives back was judged on the way in; damage is the spool reader's to say.
      checker_(spool ? InvalidMode::Skip : config.on_invalid, limit_, config.inputs, config.text_input && !spool) {
  if (spool_) {
    spool_writer_ = std::make_unique<SpoolWriter>(*spool_, config_, RecordLimit::of(config.max_bytes, config.format,
                                                                                   config.text_input),
                                                  stop_.fd(), metrics_);
    spool_reader_ = std::make_unique<SpoolReader>(*spool_, block_size_, limit_.line, stop_.fd());
  }
  if (!config.dead_letter_reasons.empty()) batcher_.keep_lines();  // each record's own line in its reason
  metrics_.buffer_limit.set(static_cast<int64_t>(config.max_buffer));
  sink_.on_spent([this](Batch&& b, bool settled) { spent(std::move(b), settled); });
  if (ledger_ && router_.routes()) ledger_->set_out_of_order();
  if (spool_ && router_.routes()) spool_frontier_ = std::make_unique<CommitFrontier>();
}

ExitStatus Pipeline::run() {
  signals::on_info([&] {
    print_stats(metrics_, Clock::now() - metrics_.started,
                config_.stats == StatsFormat::None ? StatsFormat::Human : config_.stats);
  });
  signals::block_in_this_thread(true);  // signals are the loop's, not the input thread's
  std::thread input([&] { spool_reader_ ? read_all(*spool_reader_, queue_) : read_all(reader_, queue_); });
  if (spool_writer_) spool_writer_->start();
  signals::block_in_this_thread(false);
  ValidationPool validation(queue_, validators_);
  for (;;) {
    sink_.flush();
    look_around();  // also signals that came while flush() was blocked
    if (input_done_ && !batcher_.has_closed() && sink_.idle()) break;
    save_checkpoint(budget_waits_for_checkpoint());
    hand_over();
    // Nothing held back while we wait: a sink that keeps batches until
    // flush() (stdout) may hold the very batch whose commit frees the budget,
    // and with the budget spent no input would come to wake us. Likewise
    // for a checkpoint not yet written that covers it.
    sink_.flush();
    save_checkpoint(budget_waits_for_checkpoint());
    wait();
    look_around();
    take_input();
    tick();
  }
  input.join();
  return finish();
}

/// Signals, and a sink that broke: looked at every turn and after every
/// block, so that a reader that keeps up cannot keep them waiting.
void Pipeline::look_around() {
  for (int sig : signals::take()) {
    if (sig == SIGUSR1) {
      batcher_.flush();
    } else if (sig == SIGUSR2) {
      signals::report_info_if_asked();
    } else {
      sink_.shutdown(signalled_ != ExitStatus::Success);  // a second signal ends the grace
      if (signalled_ == ExitStatus::Success) signalled_ = status_for(sig);
      stopping_ = true;
      stop_input();
    }
  }
  if (sink_.broken() && !stopping_) {
    stopping_ = true;  // what was read still goes to the sink, which accounts for it
    stop_input();
  }
}

/// Writes the checkpoint when due (or `now_anyway`) and releases what it
/// covers. While writes fail (a full disk), they are tried again when due,
/// not sooner, and what is committed stays charged to the budget: reading
/// waits (backpressure), so what a crash would send again stays within
/// --max-buffer however long the disk stays full.
void Pipeline::save_checkpoint(bool now_anyway) {
  if (!checkpoint_) return;
  TimePoint now = Clock::now();
  bool dirty = checkpoint_->dirty();
  if (dirty && (!now_anyway || checkpoint_->failing()) && now < *checkpoint_->deadline()) return;
  if (dirty) checkpoint_->save(now);  // a failure is said once
  if (!checkpoint_->dirty()) {
    backlog_.remove(Held::Unwritten, unwritten_cost_);
    backlog_.remove_records(unwritten_records_);
    unwritten_cost_ = unwritten_records_ = 0;
    show_budget();
  }
}

/// Hands closed batches to the sink while it takes them; the open batch
/// too when it alone holds a spent budget.
void Pipeline::hand_over() {
  if (!drop_ && budget_spent()) close_open_if_alone();  // (drop mode does it in make_room)
  deliver();
}

/// Hands the closed batches to the sink, once the checkpoint names every
/// file their records come from (see Checkpointer::names_new_file()).
void Pipeline::deliver() {
  if (checkpoint_ && batcher_.has_closed() && checkpoint_->names_new_file()) save_checkpoint(true);
  deliver_closed(batcher_, sink_, backlog_, metrics_, ledger_, spool_frontier_.get());
}

/// Until input is ready (when there is room for it), a signal, news from
/// the sink, or the next deadline: the open batch's, the reporter's, the
/// checkpoint's.
void Pipeline::wait() {
  bool want_input = !input_done_ && room();
  std::optional<TimePoint> deadline = batcher_.deadline();
  if (reporter_ && reporter_->deadline() && (!deadline || *reporter_->deadline() < *deadline))
    deadline = reporter_->deadline();
  if (checkpoint_ && checkpoint_->dirty() && (!deadline || *checkpoint_->deadline() < *deadline))
    deadline = checkpoint_->deadline();
  wait_for_events(want_input ? queue_.ready_fd() : -1, sink_.event_fd(), read_room_.fd(), deadline);
}

/// Takes the blocks read so far while there is room: checks their lines,
/// batches the records, says what the reader noticed, in input order.
void Pipeline::take_input() {
  while (room()) {
    InputBlock* block = queue_.pop();
    if (!block) break;
    last_block_ = block->buffer.size();
    if (!stopped_at_invalid_) {  // what was read after a bad line that stopped the run is dropped, unsaid
      say(block->notes_before);
      input_status_ = combine(input_status_, block->status_before);
      if (ledger_ && block->begins)
        ledger_->began(block->input, block->identity, block->offset, block->first_line - 1);
      uint64_t source = spool_ ? spool_->key() : record_source(*block, run_key_);
      if (add_block(*block, source, checker_, batcher_, backlog_, config_.format, drop_, dropped_,
                    metrics_, ledger_, router_, [this] { make_room(); })) {
        say(block->notes_after);
        input_status_ = combine(input_status_, block->status_after);
        if (spool_frontier_) spool_frontier_->consumed(batcher_.added(), block->end_offset());
      } else {
        stopped_at_invalid_ = true;
        stop_input();
      }
    }
    queue_.release(block);
    if (drop_) drops_.dropped(dropped_, Clock::now());
    look_around();
    tick();
    // Reading at full speed commits many MiB in this loop: the checkpoint keeps up (kCheckpointBytes).
    if (checkpoint_ && unwritten_cost_ >= kCheckpointBytes) save_checkpoint(true);
  }
  if (!input_done_ && queue_.finished()) {
    input_done_ = true;
    batcher_.flush();
  }
}

/// The batch timer and the reports are handed the time; what closed goes on.
void Pipeline::tick() {
  batcher_.tick(Clock::now());
  if (ledger_) ledger_->advance(batcher_.oldest_held_seq());
  advance_spool();
  if (reporter_) reporter_->tick(Clock::now());
  deliver();
  show_budget();
}

ExitStatus Pipeline::finish() {
  if (checkpoint_) checkpoint_->save(Clock::now());  // a last try, even while writes fail
  save_checkpoint(true);
  if (spool_writer_) input_status_ = combine(input_status_, spool_writer_->join());
  if (spool_) spool_->finish(spool_reader_->drained() && sink_.idle());
  show_budget();  // the spool's figures as the run leaves it
  drops_.finish(dropped_);
  signals::on_info(nullptr);
  // A line cut short is worth a word where what was read is otherwise
  // accounted for (a signal, --on-error stop); after a bad line or a broken
  // stdout nothing further is delivered anyway.
  bool accounted = signalled_ != ExitStatus::Success || sink_.status() == ExitStatus::DeliveryStopped;
  if (accounted && !reader_.unfinished().empty()) diag::warning(reader_.unfinished());
  metrics_.undelivered.add(sink_.undelivered_records());
  ExitStatus status = combine(combine(input_status_, checker_.status()), sink_.status());
  if (metrics_.dropped.get()) status = combine(status, ExitStatus::Undelivered);
  return combine(status, signalled_);
}

void Pipeline::spent(Batch&& b, bool settled) {
  if (ledger_) {
    if (!settled && !ledger_->frozen() && signalled_ == ExitStatus::Success && !sink_.reader_gone())
      diag::warning(fmt::format("--checkpoint: positions stay before batch {} for the rest of the run; the next "
                                "run sends its records again, and those after them",
                                b.number));
    ledger_->committed(b, settled);
    ledger_->advance(batcher_.oldest_held_seq());
    unwritten_cost_ += batch_cost(b);
    unwritten_records_ += b.records;
    backlog_.add(Held::Unwritten, batch_cost(b));
  } else {
    backlog_.remove_records(b.records);
  }
  if (spool_frontier_) spool_frontier_->committed(b.first_seq);
  if (spool_ && settled && !spool_frontier_) spool_->committed(b.last.end);
  if (spool_ && !settled && spool_->freeze() && signalled_ == ExitStatus::Success && !sink_.reader_gone())
    diag::warning(fmt::format("--spool: batch {} was not delivered: it stays in the spool, with every record after "
                              "it, for the next run",
                              b.number));
  backlog_.remove(Held::Sink, b.charged);
  batcher_.recycle(std::move(b));
  advance_spool();
  backlog_.set(Held::Batcher, batcher_.memory());
  show_budget();
}

/// Not once the budget is spent (the producer then waits: backpressure),
/// unless --on-full drop asks to keep reading and drop instead. Only the
/// budget says so: however many batches wait for a worker or a retry,
/// reading goes on while they fit. With no record held anywhere, reading
/// goes on whatever the figures say (a record larger than what is left of
/// the budget is taken alone).
bool Pipeline::room() {
  bool none_held = batcher_.empty() && backlog_.held(Held::Sink) == 0 && backlog_.held(Held::Unwritten) == 0;
  return drop_ || !budget_spent() || none_held;
}

/// Spent when one more read block would not fit: the block the loop takes
/// frees its place in the pool, which the input thread fills next, as large
/// as the last one taken (a buffer that grew for long lines keeps its
/// size). A line longer than its block grows the block only with the
/// budget's leave (see read_room.h): while the input thread waits for it,
/// the budget is spent too, so that what holds it is closed and delivered.
bool Pipeline::budget_spent() {
  count_others();
  return read_room_.wanted() > 0 || !backlog_.fits(std::max(block_size_, last_block_));
}

void Pipeline::count_others() {
  backlog_.set(Held::Input, queue_.held_bytes() + read_room_.held());
  backlog_.set(Held::SinkBuffers, sink_.held_bytes());
  bool records = !batcher_.empty() || backlog_.held(Held::Sink) > 0 || backlog_.held(Held::Unwritten) > 0;
  read_room_.others(backlog_.used() - backlog_.held(Held::Input), records);
}

void Pipeline::stop_input() {
  stop_.raise();
  read_room_.stop();
}

/// The open batch alone holds the budget when nothing else is held: it is
/// closed early, or nothing would move.
void Pipeline::close_open_if_alone() {
  if (!batcher_.has_closed() && sink_.idle()) batcher_.flush();
}

/// --on-full drop, before a record is dropped: what the sink has finished
/// with is committed first, so that only a sink that is behind drops.
void Pipeline::make_room() {
  close_open_if_alone();
  deliver();
  sink_.flush();
}

void Pipeline::show_budget() {
  count_others();
  // With no record held, what is left (a spare buffer, the empty open
  // batch) is not shown: the gauge falls to 0 as the run drains.
  metrics_.buffered_bytes.set(static_cast<int64_t>(backlog_.records() ? backlog_.used() : 0));
  metrics_.buffered_records.set(static_cast<int64_t>(backlog_.records()));
  if (spool_) {
    Spool::Figures f = spool_->figures(std::chrono::system_clock::now());
    metrics_.spool_bytes.set(static_cast<int64_t>(f.bytes));
    metrics_.spool_segments.set(static_cast<int64_t>(f.segments));
    metrics_.spool_oldest_seconds.set(f.oldest_seconds);
  }
}

}  // namespace

ExitStatus run_pipeline(const Config& config, Sink& sink, Metrics& metrics, Reporter* reporter,
                        Checkpointer* checkpoint, Spool* spool) {
  return Pipeline(config, sink, metrics, reporter, checkpoint, spool).run();
}

}  // namespace batchpipe
