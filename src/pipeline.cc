#include "pipeline.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <thread>

#include "batcher.h"
#include "block_queue.h"
#include "input_reader.h"
#include "signals.h"

namespace batchpipe {
namespace {

/// Blocks in flight between the threads: one being read, two waiting.
constexpr size_t kPoolBlocks = 3;

/// A latch the loop raises to stop the input thread; stays readable once raised.
class StopLatch {
 public:
  StopLatch() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
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

/// Waits until input is ready, a signal arrives or the open batch is due.
void wait_for_events(int ready_fd, std::optional<TimePoint> deadline) {
  int timeout = -1;
  if (deadline) {
    auto left = *deadline - std::chrono::steady_clock::now();
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    timeout = static_cast<int>(std::clamp<int64_t>(ms, 0, INT32_MAX));
  }
  pollfd fds[2] = {{ready_fd, POLLIN, 0}, {signals::fd(), POLLIN, 0}};
  (void)::poll(fds, 2, timeout);  // EINTR: a signal, which the caller looks for anyway
}

void add_block(const InputBlock& block, Batcher& batcher, Stats& stats) {
  TimePoint now = std::chrono::steady_clock::now();
  for (const Record& r : block.records) batcher.add(r.text, {block.input, r.line}, now);
  stats.records += block.records.size();
  stats.lines += block.lines;
  stats.input_bytes += block.input_bytes;
  stats.invalid += block.invalid;
}

void deliver_closed(Batcher& batcher, Sink& sink, Stats& stats) {
  while (batcher.has_closed()) {
    Batch b = batcher.take();
    ++stats.batches;
    stats.output_bytes += b.bytes.size();
    sink.deliver(std::move(b));
  }
}

ExitStatus status_for(int sig) {
  return sig == SIGINT ? ExitStatus::Interrupted : ExitStatus::Terminated;
}

}  // namespace

ExitStatus run_pipeline(const Config& config, Sink& sink, Stats& stats) {
  Batcher batcher({config.batch_size, config.max_bytes, config.interval});
  sink.on_spent([&](Batch&& b) { batcher.recycle(std::move(b)); });
  StopLatch stop;
  BlockQueue queue(kPoolBlocks);
  InputReader reader({config.inputs, batcher.max_record_size(), config.on_invalid}, stop.fd());
  signals::block_in_this_thread(true);  // signals are the loop's, not the input thread's
  std::thread input([&] { read_all(reader, queue); });
  signals::block_in_this_thread(false);

  ExitStatus signalled = ExitStatus::Success;
  bool input_done = false;
  while (!input_done && !sink.broken()) {
    sink.flush();
    wait_for_events(queue.ready_fd(), batcher.deadline());
    for (int sig : signals::take()) {
      if (sig == SIGUSR1) {
        batcher.flush();
      } else if (signalled == ExitStatus::Success) {
        signalled = status_for(sig);
        stop.raise();
      }
    }
    while (InputBlock* block = queue.pop()) {
      add_block(*block, batcher, stats);
      queue.release(block);
      deliver_closed(batcher, sink, stats);
    }
    input_done = queue.finished();
    if (input_done) batcher.flush();
    batcher.tick(std::chrono::steady_clock::now());
    deliver_closed(batcher, sink, stats);
  }
  sink.flush();

  // The sink may have broken first: let the input thread run out, unread.
  stop.raise();
  while (!queue.finished()) {
    wait_for_events(queue.ready_fd(), std::nullopt);
    while (InputBlock* block = queue.pop()) queue.release(block);
  }
  input.join();
  stats.undelivered = sink.undelivered_records() + batcher.open_records();
  return combine(combine(reader.status(), sink.status()), signalled);
}

}  // namespace batchpipe
