#include "deliver/delivery_sink.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "base/diagnostics.h"
#include "base/signals.h"
#include "base/startup_error.h"
#include "batch/record_id.h"

namespace batchpipe {
namespace {

/// What a worker holds from the start (its thread, its transport's handle:
/// 23.6 KiB each, measured as the resident size of an idle -j 256 less -j 1),
/// and what it holds beyond that once it has taken a batch, whatever the
/// batch (its connection and libcurl's buffers, its allocator arena: about
/// 110 KiB, bench/memory -j 64 less -j 1).
constexpr uint64_t kIdleWorkerBytes = 24 << 10;
constexpr uint64_t kStartedWorkerBytes = 112 << 10;

uint64_t random_seed() {
  uint64_t seed = 0;
  if (::getrandom(&seed, sizeof seed, 0) != sizeof seed)
    seed = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^
           static_cast<uint64_t>(::getpid());
  return seed;
}

}  // namespace

struct DeliverySink::Worker {
  std::unique_ptr<Transport> transport;
  AttemptControl control;
  std::mt19937_64 rng{random_seed()};
  std::thread thread;
  std::atomic<uint64_t> part_bytes{0};  ///< the body of a split batch's part being sent (AttemptEnv::holding)
  // Under the sink's mutex_:
  uint64_t batch = 0;       ///< the number of the batch the worker is on
  bool retry_wait = false;  ///< waiting before a retry of it
  bool started = false;                 ///< has taken a batch (under mutex_)
};

/// The real clock, and waits that end early when the run shuts down.
class DeliverySink::Env : public AttemptEnv {
 public:
  Env(DeliverySink& sink, Worker& worker) : sink_(sink), worker_(worker) {}
  TimePoint now() override { return Clock::now(); }

  std::string why_not(uint32_t attempt) override {
    std::lock_guard lock(sink_.mutex_);
    if (sink_.stopped_)
      return attempt == 1 ? "not tried: delivery stopped after an earlier failure"
                          : "no more retries: delivery stopped after an earlier failure";
    if (sink_.aborted_) return "not tried: interrupted";
    if (sink_.shutting_down_ && attempt > 1) return "no retries while shutting down";
    if (sink_.shutting_down_ && Clock::now() >= sink_.grace_end_)
      return fmt::format("not tried within --grace {}", format_duration(sink_.options_.grace));
    return {};
  }

  bool delivered_any() override { return sink_.delivered_any_; }
  void holding(uint64_t bytes) override { worker_.part_bytes = bytes; }

  bool wait(Duration delay) override {
    std::unique_lock lock(sink_.mutex_);
    auto over = [&] { return sink_.shutting_down_ || sink_.aborted_ || sink_.stopped_; };
    worker_.retry_wait = true;
    sink_.wake_.wait_for(lock, delay, over);
    worker_.retry_wait = false;
    return !over();
  }

 private:
  DeliverySink& sink_;
  Worker& worker_;
};

DeliverySink::DeliverySink(std::vector<std::unique_ptr<Transport>> transports, DeliveryOptions options,
                           std::optional<DeadLetter> dead_letter, Metrics& metrics)
    : options_(std::move(options)),
      metrics_(metrics),
      run_id_(fmt::format("{:016x}", random_seed())),
      event_fd_(checked_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "an eventfd")),
      out_(options_.output_fd),
      committer_({options_.inputs, options_.answers, options_.answers_with_input, options_.resumable,
                  /*spooled=*/options_.positional_ids},
                 std::move(dead_letter), metrics_, out_,
                 [this](Batch&& b, bool settled) { spend(std::move(b), settled); }) {
  metrics_.delivery = true;
  options_.attempt.reader = options_.reader.get();
  for (auto& t : transports) {
    workers_.push_back(std::make_unique<Worker>());
    workers_.back()->transport = std::move(t);
  }
  signals::block_in_this_thread(true);  // the workers inherit the mask: signals are the loop's
  for (auto& w : workers_) w->thread = std::thread([this, worker = w.get()] { work(*worker); });
  signals::block_in_this_thread(false);
}

DeliverySink::~DeliverySink() {
  committer_.say_untried(true, true);
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) w->thread.join();
  ::close(event_fd_);
}

void DeliverySink::deliver(Batch&& batch) {
  if (out_.reader_gone()) {  // the run is ending quietly, by SIGPIPE: nothing more is tried
    lost_ += batch.records;
    spend(std::move(batch), false);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    waiting_.push_back(std::move(batch));
  }
  wake_.notify_all();
}

uint64_t DeliverySink::held_bytes() const {
  uint64_t sum = options_.reserved_bytes + answer_bytes_ + workers_.size() * kIdleWorkerBytes + started_workers_ * kStartedWorkerBytes;
  for (const auto& w : workers_) sum += w->transport->held_bytes() + w->part_bytes;
  std::lock_guard lock(mutex_);
  size_t next = std::min(waiting_.size(), workers_.size());
  for (size_t i = 0; i < next; ++i) sum += workers_.front()->transport->would_hold(waiting_[i]);
  return sum;
}

bool DeliverySink::broken() const {
  if (out_.broken()) return true;
  std::lock_guard lock(mutex_);
  return stopped_;
}

ExitStatus DeliverySink::status() const {
  std::lock_guard lock(mutex_);
  if (stopped_) return ExitStatus::DeliveryStopped;
  return committer_.failed_batches() || out_.failed() ? ExitStatus::Undelivered : ExitStatus::Success;
}

bool DeliverySink::idle() const {
  std::lock_guard lock(mutex_);
  return waiting_.empty() && running_ == 0 && finished_.empty() && sequencer_.waiting() == 0;
}

void DeliverySink::shutdown(bool immediately) {
  {
    std::lock_guard lock(mutex_);
    if (!shutting_down_) {
      shutting_down_ = true;
      grace_end_ = Clock::now() + options_.grace;
      for (auto& w : workers_) w->control.limit(grace_end_);
      committer_.set_deadline(grace_end_);
      // A batch waiting for a retry gets none now: with --checkpoint it is
      // left for the next run, before any later batch can start.
      for (auto& w : workers_)
        if (w->retry_wait) leave_from(w->batch);
    }
    if (immediately) {
      aborted_ = true;
      for (auto& w : workers_) w->control.cancel();
    }
  }
  wake_.notify_all();
}

bool DeliverySink::may_start() const {
  return !(options_.resumable && shutting_down_) || running_ == 0;
}

void DeliverySink::leave_from(uint64_t number) {
  if (options_.resumable && shutting_down_) left_from_ = std::min(left_from_, number);
}

void DeliverySink::work(Worker& worker) {
  Env env(*this, worker);
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return (!waiting_.empty() && may_start()) || (closing_ && waiting_.empty()); });
    if (waiting_.empty()) return;
    Report report{std::move(waiting_.front()), {}};
    waiting_.pop_front();  // batches start in input order
    worker.batch = report.batch.number;
    uint64_t left_from = left_from_;
    ++running_;
    if (!worker.started) {
      worker.started = true;
      ++started_workers_;
    }
    lock.unlock();

    if (report.batch.number > left_from) {
      report.result.cut_short = true;
      report.result.reason = fmt::format("not tried: batch {} is left for the next run", left_from);
    } else {
      metrics_.in_flight.add(1);
      const Batch& b = report.batch;
      std::string id = options_.positional_ids ? positional_batch_id(b.first.source, b.first.offset, b.last.end)
                                               : fmt::format("{}-{}", run_id_, b.number);
      report.result = attempt_batch(report.batch, id, *worker.transport, worker.control, env, options_.attempt,
                                    worker.rng, metrics_);
      worker.part_bytes = 0;
      metrics_.in_flight.add(-1);
    }
    answer_bytes_ += report.result.answer.size();
    if (report.result.delivered) delivered_any_ = true;

    lock.lock();
    if (!report.result.delivered || report.result.cut_short) leave_from(report.batch.number);
    // --on-error stop: nothing new starts from now on; what already
    // succeeded stays delivered.
    if (!report.result.delivered && options_.stop_on_error && !shutting_down_) stopped_ = true;
    // A failure every later batch would share stops delivery whatever --on-error says.
    if (report.result.stops_run && !shutting_down_) stopped_ = true;
    finished_.push_back(std::move(report));
    --running_;
    uint64_t one = 1;
    (void)!::write(event_fd_, &one, sizeof one);
    wake_.notify_all();
  }
}

void DeliverySink::flush() {
  committer_.say_untried(false, idle());
  std::vector<Report> done;
  {
    std::lock_guard lock(mutex_);
    done.swap(finished_);
  }
  for (Report& r : done) sequencer_.put(r.batch.number, std::move(r));
  while (std::optional<Report> r = sequencer_.pop()) {
    bool gone = out_.reader_gone();
    answer_bytes_ -= r->result.answer.size();
    committer_.commit(std::move(r->batch), r->result, run_state());
    if (!gone && out_.reader_gone()) shutdown(true);  // attempts under way are cut short, the rest not started
  }
}

RunState DeliverySink::run_state() const {
  std::lock_guard lock(mutex_);
  return {shutting_down_, stopped_};
}

}  // namespace batchpipe
