#include "deliver/delivery_sink.h"

#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include <fmt/format.h>

#include "diagnostics.h"
#include "input/input_reader.h"
#include "signals.h"
#include "startup_error.h"

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

DeliverySink::DeliverySink(std::unique_ptr<Transport> transport, DeliveryOptions options,
                           std::optional<DeadLetter> dead_letter, Metrics& metrics)
    : transport_(std::move(transport)),
      options_(std::move(options)),
      dead_letter_(std::move(dead_letter)),
      run_id_(fmt::format("{:016x}", random_seed())),
      rng_(random_seed()),
      event_fd_(checked_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "an eventfd")),
      metrics_(metrics) {
  metrics_.delivery = true;
  thread_ = std::thread([this] {
    signals::block_in_this_thread(true);
    run();
  });
}

DeliverySink::~DeliverySink() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  wake_.notify_all();
  thread_.join();
  ::close(event_fd_);
}

void DeliverySink::deliver(Batch&& batch) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(batch));
  }
  wake_.notify_all();
}

bool DeliverySink::broken() const {
  std::lock_guard lock(mutex_);
  return stopped_;
}

ExitStatus DeliverySink::status() const {
  std::lock_guard lock(mutex_);
  if (stopped_) return ExitStatus::DeliveryStopped;
  return failed_batches_ ? ExitStatus::Undelivered : ExitStatus::Success;
}

uint64_t DeliverySink::undelivered_records() const {
  std::lock_guard lock(mutex_);
  return dead_lettered_ + lost_;
}

bool DeliverySink::accepting() const {
  std::lock_guard lock(mutex_);
  return queue_.size() < options_.queue_batches || shutting_down_ || stopped_;
}

bool DeliverySink::idle() const {
  std::lock_guard lock(mutex_);
  return queue_.empty();
}

void DeliverySink::shutdown(bool immediately) {
  {
    std::lock_guard lock(mutex_);
    if (!shutting_down_) {
      shutting_down_ = true;
      grace_end_ = Clock::now() + options_.grace;
      control_.limit(grace_end_);
      if (dead_letter_) dead_letter_->set_deadline(grace_end_);
    }
    if (immediately) {
      aborted_ = true;
      control_.cancel();
    }
  }
  wake_.notify_all();
}

void DeliverySink::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return !queue_.empty() || closing_; });
    if (queue_.empty()) return;
    const Batch& batch = queue_.front();  // deque: stays put while others are pushed
    lock.unlock();
    handle(batch);
    lock.lock();
    queue_.pop_front();
    uint64_t one = 1;
    (void)!::write(event_fd_, &one, sizeof one);
  }
}

void DeliverySink::handle(const Batch& batch) {
  AttemptInfo info{batch.number, 0, fmt::format("{}-{}", run_id_, batch.number)};
  TimePoint first_try = Clock::now();
  for (;;) {
    ++info.attempt;
    if (std::string why = reason_not_to_try(info.attempt); !why.empty()) return give_up(batch, why);
    control_.begin(options_.timeout);
    TimePoint started = Clock::now();
    AttemptResult result = transport_->attempt(batch, info, control_);
    if (options_.verbose)
      diag::warning(fmt::format("{}: attempt {}: {} in {}, {} bytes", describe(batch), info.attempt,
                                result.outcome == Outcome::Delivered && result.detail.empty() ? "delivered" : result.detail,
                                format_duration(Clock::now() - started), result.bytes_sent));
    if (result.outcome == Outcome::Delivered) {
      std::lock_guard lock(mutex_);
      ++delivered_batches_;
      delivered_records_ += batch.records;
      metrics_.delivered_batches.add();
      metrics_.delivered_records.add(batch.records);
      return;
    }
    RetryDecision next = decide_retry(options_.retry, info.attempt, result,
                                      Clock::now() - first_try, rng_);
    bool shutting_down;
    {
      std::lock_guard lock(mutex_);
      shutting_down = shutting_down_;
    }
    if (!next.retry || shutting_down) {
      std::string why = next.retry ? "no retries while shutting down" : next.reason;
      return give_up(batch, fmt::format("{}; {}", result.detail, why));
    }
    diag::warning(fmt::format("{}: {}; retry {} of {} in {}", describe(batch), result.detail, info.attempt,
                              options_.retry.retries, format_duration(next.delay)));
    {
      std::lock_guard lock(mutex_);
      ++retries_;
      metrics_.retries.add();
    }
    if (!wait_before_retry(next.delay)) return give_up(batch, fmt::format("{}; no retries while shutting down", result.detail));
  }
}

std::string DeliverySink::reason_not_to_try(uint32_t attempt) const {
  std::lock_guard lock(mutex_);
  if (stopped_) return "not tried: delivery stopped after an earlier failure";
  if (aborted_) return "not tried: interrupted";
  if (shutting_down_ && attempt > 1) return "no retries while shutting down";
  if (shutting_down_ && Clock::now() >= grace_end_)
    return fmt::format("not tried within --grace {}", format_duration(options_.grace));
  return {};
}

bool DeliverySink::wait_before_retry(Duration delay) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, delay, [&] { return shutting_down_ || aborted_; });
  return !(shutting_down_ || aborted_);
}

void DeliverySink::give_up(const Batch& batch, const std::string& why) {
  std::string error;
  bool saved = dead_letter_ && dead_letter_->write(batch, error);
  std::lock_guard lock(mutex_);
  ++failed_batches_;
  metrics_.failed_batches.add();
  if (saved) {
    dead_lettered_ += batch.records;
    metrics_.dead_lettered.add(batch.records);
    diag::error(fmt::format("{}: {}; written to {}", describe(batch), why, dead_letter_->path()));
  } else {
    lost_ += batch.records;
    if (!error.empty()) diag::error(error);
    diag::error(fmt::format("{}: {}; {} record{} lost ({})", describe(batch), why, batch.records,
                            batch.records == 1 ? "" : "s", line_range(batch)));
  }
  if (options_.stop_on_error && !shutting_down_ && !stopped_) {
    stopped_ = true;
    diag::error("--on-error stop: delivering nothing more");
  }
}

std::string DeliverySink::describe(const Batch& batch) const {
  return fmt::format("batch {} ({} record{})", batch.number, batch.records, batch.records == 1 ? "" : "s");
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
