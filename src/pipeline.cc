#include "pipeline.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <thread>

#include "batch/batcher.h"
#include "input/block_queue.h"
#include "input/input_reader.h"
#include "json/line_checker.h"
#include "diagnostics.h"
#include "signals.h"
#include "startup_error.h"
#include "stats.h"

namespace batchpipe {
namespace {

/// Blocks in flight between the threads: one being read, two waiting.
constexpr size_t kPoolBlocks = 3;

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

/// Checks a block's lines and batches its records. Returns false when
/// --on-invalid fail stops the run at one of them.
bool add_block(const InputBlock& block, LineChecker& checker, Batcher& batcher, Metrics& metrics) {
  TimePoint now = Clock::now();
  uint64_t records = 0;
  bool go_on = checker.check(block, [&](std::string_view text, uint64_t line) {
    batcher.add(text, {block.input, line}, now);
    ++records;
  });
  metrics.records.add(records);
  metrics.lines.add(block.line_count);
  metrics.input_bytes.add(block.input_bytes);
  return go_on;
}

/// Hands closed batches to the sink while it takes them.
void deliver_closed(Batcher& batcher, Sink& sink, Metrics& metrics) {
  while (batcher.has_closed() && sink.accepting()) {
    Batch b = batcher.take();
    metrics.batches.add();
    metrics.output_bytes.add(b.bytes.size());
    sink.deliver(std::move(b));
  }
}

ExitStatus status_for(int sig) {
  return sig == SIGINT ? ExitStatus::Interrupted : sig == SIGHUP ? ExitStatus::Hangup : ExitStatus::Terminated;
}

}  // namespace

ExitStatus run_pipeline(const Config& config, Sink& sink, Metrics& metrics) {
  Batcher batcher({config.batch_size, config.max_bytes, config.interval});
  sink.on_spent([&](Batch&& b) { batcher.recycle(std::move(b)); });
  StopLatch stop;
  BlockQueue queue(kPoolBlocks);
  InputReader reader({config.inputs, batcher.max_record_size()}, stop.fd());
  LineChecker checker(config.on_invalid, batcher.max_record_size(), config.inputs);
  signals::on_info([&] { diag::error(format_stats(metrics, Clock::now() - metrics.started)); });
  signals::block_in_this_thread(true);  // signals are the loop's, not the input thread's
  std::thread input([&] { read_all(reader, queue); });
  signals::block_in_this_thread(false);

  ExitStatus signalled = ExitStatus::Success;
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
    // Closed batches the sink will not take yet hold input back: backpressure.
    bool want_input = !input_done && !batcher.has_closed();
    wait_for_events(want_input ? queue.ready_fd() : -1, sink.event_fd(), batcher.deadline());
    look_around();
    while (!batcher.has_closed()) {
      InputBlock* block = queue.pop();
      if (!block) break;
      if (!stopped_at_invalid && !add_block(*block, checker, batcher, metrics)) {
        stopped_at_invalid = true;  // what was read after the bad line is dropped
        stop.raise();
      }
      queue.release(block);
      look_around();
      batcher.tick(Clock::now());
      deliver_closed(batcher, sink, metrics);
    }
    if (!input_done && queue.finished()) {
      input_done = true;
      batcher.flush();
    }
    batcher.tick(Clock::now());
    deliver_closed(batcher, sink, metrics);
  }
  input.join();
  signals::on_info(nullptr);
  // A line cut short is worth a word where what was read is otherwise
  // accounted for (a signal, --on-error stop); after a bad line or a broken
  // stdout nothing further is delivered anyway.
  bool accounted = signalled != ExitStatus::Success || sink.status() == ExitStatus::DeliveryStopped;
  if (accounted && !reader.unfinished().empty()) diag::warning(reader.unfinished());
  metrics.invalid.add(checker.rejected());
  metrics.undelivered.add(sink.undelivered_records());
  return combine(combine(combine(reader.status(), checker.status()), sink.status()), signalled);
}

}  // namespace batchpipe
