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
#include "input/input_reader.h"
#include "base/signals.h"
#include "base/startup_error.h"

namespace batchpipe {
namespace {

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
};

/// The real clock, and waits that end early when the run shuts down.
class DeliverySink::Env : public AttemptEnv {
 public:
  explicit Env(DeliverySink& sink) : sink_(sink) {}
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

  bool wait(Duration delay) override {
    std::unique_lock lock(sink_.mutex_);
    auto over = [&] { return sink_.shutting_down_ || sink_.aborted_ || sink_.stopped_; };
    sink_.wake_.wait_for(lock, delay, over);
    return !over();
  }

 private:
  DeliverySink& sink_;
};

DeliverySink::DeliverySink(std::vector<std::unique_ptr<Transport>> transports, DeliveryOptions options,
                           std::optional<DeadLetter> dead_letter, Metrics& metrics)
    : options_(std::move(options)),
      dead_letter_(std::move(dead_letter)),
      metrics_(metrics),
      run_id_(fmt::format("{:016x}", random_seed())),
      event_fd_(checked_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "an eventfd")) {
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
  say_untried(true);
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) w->thread.join();
  ::close(event_fd_);
}

void DeliverySink::deliver(Batch&& batch) {
  if (reader_gone_) {  // the run is ending quietly, by SIGPIPE: nothing more is tried
    lost_ += batch.records;
    spend(std::move(batch), false);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    waiting_holds_ += workers_.front()->transport->would_hold(batch);
    waiting_.push_back(std::move(batch));
  }
  wake_.notify_all();
}

uint64_t DeliverySink::held_bytes() const {
  uint64_t sum = answer_bytes_ + waiting_holds_;
  for (const auto& w : workers_) sum += w->transport->held_bytes();
  return sum;
}

bool DeliverySink::broken() const {
  if (reader_gone_ || output_failed_) return true;
  std::lock_guard lock(mutex_);
  return stopped_;
}

ExitStatus DeliverySink::status() const {
  std::lock_guard lock(mutex_);
  if (stopped_) return ExitStatus::DeliveryStopped;
  return failed_batches_ || output_failed_ ? ExitStatus::Undelivered : ExitStatus::Success;
}

bool DeliverySink::accepting() const {
  std::lock_guard lock(mutex_);
  // A batch or two ready for each worker; the rest wait in the Batcher,
  // within the byte budget.
  return waiting_.size() < 2 * workers_.size() || shutting_down_ || stopped_;
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
      if (dead_letter_) dead_letter_->set_deadline(grace_end_);
    }
    if (immediately) {
      aborted_ = true;
      for (auto& w : workers_) w->control.cancel();
    }
  }
  wake_.notify_all();
}

void DeliverySink::work(Worker& worker) {
  Env env(*this);
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return !waiting_.empty() || closing_; });
    if (waiting_.empty()) return;
    Report report{std::move(waiting_.front()), {}};
    waiting_.pop_front();  // batches start in input order
    waiting_holds_ -= worker.transport->would_hold(report.batch);
    ++running_;
    lock.unlock();

    metrics_.in_flight.add(1);
    std::string id = fmt::format("{}-{}", run_id_, report.batch.number);
    report.result = attempt_batch(report.batch, id, *worker.transport, worker.control, env, options_.attempt,
                                  worker.rng, metrics_);
    metrics_.in_flight.add(-1);
    answer_bytes_ += report.result.answer.size();
    if (report.result.delivered) delivered_any_ = true;

    lock.lock();
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
  say_untried(false);
  std::vector<Report> done;
  {
    std::lock_guard lock(mutex_);
    done.swap(finished_);
  }
  for (Report& r : done) sequencer_.put(r.batch.number, std::move(r));
  while (std::optional<Report> r = sequencer_.pop()) commit(*r);
}

void DeliverySink::commit(Report& report) {
  const Batch& batch = report.batch;
  BatchResult& result = report.result;
  if (reader_gone_) {  // ending quietly, as cat would: what is left is not worth a word
    if (!result.delivered) lost_ += batch.records;
    answer_bytes_ -= result.answer.size();
    spend(std::move(report.batch), result.delivered);
    return;
  }
  if (!result.delivered && options_.resumable) {
    bool shutting_down;
    {
      std::lock_guard lock(mutex_);
      shutting_down = shutting_down_;
    }
    if (shutting_down) {  // a later run reads these records again: not dead-lettered, not lost
      left_ += batch.records;
      if (left_ == batch.records)
        diag::warning(fmt::format("{}: {}; left for the next run (--checkpoint), with every batch after it",
                                  describe_batch(batch), result.reason));
      spend(std::move(report.batch), false);
      return;
    }
  }
  bool settled = true;
  if (result.delivered) {
    uint64_t failed = result.failed.size();
    metrics_.delivered_batches.add();
    metrics_.delivered_records.add(batch.records - failed);
    metrics_.delivered_bytes.add(batch.body().size());
    metrics_.already_stored.add(result.already_stored);
    metrics_.resent_records.add(result.retried_records);
    print_answers(batch, result);
    if (result.output && !output_failed_ && !reader_gone_ && !options_.answers) copy_output(result.output.get());
    // Records that failed alone: with --checkpoint, unless saved, a later run
    // sends the batch again (at least once: its delivered records too).
    if (failed) settled = give_up_records(batch, result.failed);
  } else {
    ++failed_batches_;
    metrics_.failed_batches.add();
    metrics_.failed_records.add(batch.records);
    std::string error;
    bool saved = dead_letter_ && dead_letter_->write(batch, error);
    // After the stop was said, batches never tried are summed up, not named one by one.
    bool quiet = said_stop_ && result.attempts == 0 && error.empty();
    if (quiet) {
      ++untried_batches_;
      untried_records_ += batch.records;
      if (saved) {
        dead_lettered_ += batch.records;
        metrics_.dead_lettered.add(batch.records);
      } else {
        settled = false;
        lost_ += batch.records;
      }
    } else if (saved) {
      dead_lettered_ += batch.records;
      metrics_.dead_lettered.add(batch.records);
      diag::error(fmt::format("{}: {}; written to {}", describe_batch(batch), result.reason, dead_letter_->path()));
    } else {
      settled = false;  // with --checkpoint, a later run tries these records again
      lost_ += batch.records;
      if (!error.empty()) diag::error(error);
      diag::error(fmt::format("{}: {}; {} record{} lost ({})", describe_batch(batch), result.reason, batch.records,
                              batch.records == 1 ? "" : "s", line_range(batch)));
    }
    bool stopped;
    {
      std::lock_guard lock(mutex_);
      stopped = stopped_;
    }
    if (result.stops_run && !said_stop_) {
      said_stop_ = true;
      diag::error(fmt::format("stopping: every batch would fail the same way; {}", result.fix));
    } else if (stopped && !said_stop_) {
      said_stop_ = true;
      diag::error("--on-error stop: delivering nothing more");
    }
  }
  answer_bytes_ -= result.answer.size();
  spend(std::move(report.batch), settled);
}

void DeliverySink::say_untried(bool last) {
  if (untried_batches_ == said_untried_ || (!last && !idle())) return;
  TimePoint now = Clock::now();
  if (!last && now < next_untried_note_) return;
  next_untried_note_ = now + std::chrono::seconds(1);
  said_untried_ = untried_batches_;
  diag::error(fmt::format("{} more batch{} ({} record{}) not tried after the stop{}", untried_batches_,
                          untried_batches_ == 1 ? "" : "es", untried_records_, untried_records_ == 1 ? "" : "s",
                          dead_letter_ ? fmt::format("; written to {}", dead_letter_->path()) : "; lost"));
}

bool DeliverySink::give_up_records(const Batch& batch, const std::vector<RecordFailure>& failed) {
  ++failed_batches_;  // the exit status says records were not delivered
  metrics_.rejected_records.add(failed.size());
  std::vector<uint32_t> indices;
  for (const RecordFailure& f : failed) indices.push_back(f.index);
  std::sort(indices.begin(), indices.end());
  std::string error;
  bool saved = dead_letter_ && dead_letter_->write(part_of(batch, indices), error);
  if (saved) {
    dead_lettered_ += failed.size();
    metrics_.dead_lettered.add(failed.size());
  } else {
    lost_ += failed.size();
    if (!error.empty()) diag::error(error);
  }
  // Runs of neighbours that failed for the same reason are named once.
  for (size_t i = 0, j; i < failed.size(); i = j) {
    for (j = i + 1; j < failed.size() && failed[j].index == failed[j - 1].index + 1 &&
                    failed[j].reason == failed[i].reason;
         ++j) {
    }
    std::string which = j - i == 1 ? fmt::format("record {}", failed[i].index + 1)
                                   : fmt::format("records {}-{}", failed[i].index + 1, failed[j - 1].index + 1);
    diag::line_problem(fmt::format("{}, {}: {}", describe_batch(batch), which, failed[i].reason));
  }
  diag::error(fmt::format("{}: {} record{} not delivered{}", describe_batch(batch), failed.size(),
                          failed.size() == 1 ? "" : "s",
                          saved ? fmt::format("; written to {}", dead_letter_->path())
                                : fmt::format("; lost ({})", line_range(batch))));
  return saved;
}

void DeliverySink::print_answers(const Batch& batch, const BatchResult& result) {
  if (!options_.answers || output_failed_) return;
  std::string out;
  std::string_view answer = result.answer;
  for (size_t i = 0; i < result.answers.size(); ++i) {
    std::string_view element = answer.substr(result.answers[i].first, result.answers[i].second);
    if (options_.answers_with_input) fmt::format_to(std::back_inserter(out), "{{\"in\":{},\"out\":", batch.record(i));
    // One line per record: a newline inside a valid element can only be
    // whitespace between its tokens, and becomes a space.
    size_t start = out.size();
    out.append(element);
    std::replace_if(out.begin() + static_cast<long>(start), out.end(), [](char c) { return c == '\n' || c == '\r'; },
                    ' ');
    out.append(options_.answers_with_input ? "}\n" : "\n");
  }
  write_output(out.data(), out.size());
}

bool DeliverySink::copy_output(int fd) {
  char buffer[1 << 16];
  for (off_t offset = 0;;) {
    ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n == 0;
    offset += n;
    if (!write_output(buffer, static_cast<size_t>(n))) return false;
  }
}

bool DeliverySink::write_output(const char* data, size_t size) {
  for (size_t done = 0; done < size;) {
    ssize_t w = ::write(options_.output_fd, data + done, size - done);
    if (w >= 0) {
      done += static_cast<size_t>(w);
      continue;
    }
    if (errno == EAGAIN) {
      pollfd out{options_.output_fd, POLLOUT, 0};
      (void)::poll(&out, 1, -1);
    }
    if ((errno == EINTR || errno == EAGAIN) && signals::terminations() < 2) continue;
    if (errno == EPIPE) {
      reader_gone_ = true;
      shutdown(true);  // attempts under way are cut short, the rest not started
    } else {
      output_failed_ = true;
      diag::error(fmt::format("stdout: write error: {}", std::strerror(errno)));
    }
    return false;
  }
  return true;
}

std::string DeliverySink::line_range(const Batch& batch) const {
  auto name = [&](uint32_t input) { return input_name(options_.inputs, input); };
  bool one_input = options_.inputs.size() == 1;
  if (batch.first.input == batch.last.input)
    return one_input ? fmt::format("input lines {}-{}", batch.first.line, batch.last.line)
                     : fmt::format("{} lines {}-{}", name(batch.first.input), batch.first.line, batch.last.line);
  return fmt::format("{} line {} to {} line {}", name(batch.first.input), batch.first.line,
                     name(batch.last.input), batch.last.line);
}

}  // namespace batchpipe
