// The engine with real worker threads and scripted transports: what it
// commits, and in which order.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "deliver/delivery_sink.h"
#include "base/diagnostics.h"
#include "fake_transport.h"

using namespace batchpipe;
using namespace batchpipe::testing;
using namespace std::chrono_literals;

namespace {

Batch batch_of(uint64_t number) {
  Batch b;
  BatchEncoder::open(b);
  BatchEncoder::append(b, std::to_string(number * 10));
  BatchEncoder::append(b, std::to_string(number * 10 + 1));
  BatchEncoder::close(b);
  b.number = number;
  b.first = {0, number * 2 - 1};
  b.last = {0, number * 2};
  return b;
}

struct Engine {
  FakeScript script;
  Metrics metrics;
  std::vector<uint64_t> committed;  // batch numbers, in the order they were committed
  std::unique_ptr<DeliverySink> sink;

  Engine(size_t workers, DeliveryOptions options, std::optional<DeadLetter> dead_letter = std::nullopt,
         RetryOptions retry = {.retries = 0, .delay = 1ms, .max_delay = 1ms, .max_time = 0s}) {
    std::vector<std::unique_ptr<Transport>> transports;
    for (size_t i = 0; i < workers; ++i) transports.push_back(std::make_unique<FakeTransport>(script));
    options.attempt.retry = retry;
    options.inputs = {"-"};
    sink = std::make_unique<DeliverySink>(std::move(transports), std::move(options), std::move(dead_letter),
                                          metrics);
    sink->on_spent([this](Batch&& b, bool) { committed.push_back(b.number); });
  }
  /// Commits until the engine is idle (bounded: the fake answers at once).
  void drain() {
    for (int turn = 0; turn < 100000 && !sink->idle(); ++turn) {
      sink->flush();
      if (!sink->idle()) ::usleep(100);
    }
    sink->flush();
    REQUIRE(sink->idle());
  }
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("batches finishing out of order are committed in input order", "[engine]") {
  diag::set_quiet(true);
  Engine e(4, {});
  e.script.hold(1);  // batch 1 finishes last
  for (uint64_t n = 1; n <= 4; ++n) e.sink->deliver(batch_of(n));
  e.script.await_calls(4);  // all four in flight at once
  for (int turn = 0; turn < 50; ++turn) e.sink->flush();
  CHECK(e.committed.empty());  // 2, 3 and 4 wait for 1
  e.script.release(1);
  e.drain();
  CHECK(e.committed == std::vector<uint64_t>{1, 2, 3, 4});
  CHECK(e.metrics.delivered_batches.get() == 4);
  CHECK(e.metrics.delivered_records.get() == 8);
  CHECK(e.sink->status() == ExitStatus::Success);
}

TEST_CASE("the dead-letter file keeps input order whatever order failures finish in", "[engine]") {
  diag::set_quiet(true);
  char dir[] = "/tmp/bp-engine-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  std::string path = std::string(dir) + "/dead.ndjson";
  std::string error;
  auto dead = DeadLetter::open(path, error);
  REQUIRE(dead);
  Engine e(3, {}, std::move(dead));
  for (uint64_t n : {2, 3, 5}) e.script.on(n, 1, Outcome::Permanent, "HTTP 400");
  e.script.hold(2);
  for (uint64_t n = 1; n <= 6; ++n) e.sink->deliver(batch_of(n));
  e.script.await_calls(3);
  e.script.release(2);
  e.drain();
  CHECK(e.committed == std::vector<uint64_t>{1, 2, 3, 4, 5, 6});
  CHECK(read_file(path) == "20\n21\n30\n31\n50\n51\n");
  CHECK(e.sink->undelivered_records() == 6);
  CHECK(e.metrics.dead_lettered.get() == 6);
  CHECK(e.sink->status() == ExitStatus::Undelivered);
  ::unlink(path.c_str());
  ::rmdir(dir);
}

TEST_CASE("--on-error stop: what succeeded stays delivered, nothing new starts", "[engine]") {
  diag::set_quiet(true);
  DeliveryOptions options;
  options.stop_on_error = true;
  Engine e(2, options);
  e.script.on(1, 1, Outcome::Permanent, "HTTP 400");
  e.script.hold(1);
  e.script.hold(2);
  for (uint64_t n = 1; n <= 5; ++n) e.sink->deliver(batch_of(n));
  e.script.await_calls(2);  // 1 and 2 in flight
  e.script.release(1);      // 1 fails: 3, 4 and 5 are never tried
  for (int turn = 0; turn < 100000 && e.committed.empty(); ++turn) {
    e.sink->flush();
    ::usleep(100);
  }
  REQUIRE(e.committed == std::vector<uint64_t>{1});
  e.script.release(2);      // 2, already in flight, still succeeds
  e.drain();
  CHECK(e.committed == std::vector<uint64_t>{1, 2, 3, 4, 5});
  std::vector<uint64_t> tried;
  for (auto& c : e.script.calls()) tried.push_back(c.batch);
  std::sort(tried.begin(), tried.end());
  CHECK(tried == std::vector<uint64_t>{1, 2});
  CHECK(e.metrics.delivered_batches.get() == 1);
  CHECK(e.metrics.failed_batches.get() == 4);
  CHECK(e.sink->broken());
  CHECK(e.sink->status() == ExitStatus::DeliveryStopped);
}

TEST_CASE("an interrupt gives up what has not started", "[engine]") {
  diag::set_quiet(true);
  DeliveryOptions options;
  options.grace = 0s;
  Engine e(1, options);
  e.script.hold(1);
  for (uint64_t n = 1; n <= 3; ++n) e.sink->deliver(batch_of(n));
  e.script.await_calls(1);
  e.sink->shutdown(false);  // no grace: 2 and 3 are not tried
  e.script.release(1);
  e.drain();
  CHECK(e.committed == std::vector<uint64_t>{1, 2, 3});
  CHECK(e.script.calls().size() == 1);
  CHECK(e.metrics.delivered_batches.get() == 1);
  CHECK(e.metrics.failed_batches.get() == 2);
}

TEST_CASE("--checkpoint: after a batch left for the next run in the shutdown, nothing later is tried", "[engine]") {
  diag::set_quiet(true);
  DeliveryOptions options;
  options.resumable = true;
  Engine e(2, options, std::nullopt, {.retries = 3, .delay = 1h, .max_delay = 1h, .max_time = 0s});
  e.script.on(1, 1, Outcome::Retryable, "HTTP 503");  // batch 1 then waits an hour for its retry
  e.script.hold(2);                                   // batch 2 is in flight when the signal comes
  for (uint64_t n = 1; n <= 5; ++n) e.sink->deliver(batch_of(n));
  e.script.await_calls(2);
  e.sink->shutdown(false);  // a grace of 10 s: 3, 4 and 5 could start, but 1 is left
  e.script.release(2);
  e.drain();
  CHECK(e.committed == std::vector<uint64_t>{1, 2, 3, 4, 5});
  std::vector<uint64_t> tried;
  for (auto& c : e.script.calls()) tried.push_back(c.batch);
  std::sort(tried.begin(), tried.end());
  CHECK(tried == std::vector<uint64_t>{1, 2});
  CHECK(e.metrics.failed_batches.get() == 0);  // left, not given up
}

TEST_CASE("--checkpoint: in the shutdown grace batches go one after another while all are delivered", "[engine]") {
  diag::set_quiet(true);
  DeliveryOptions options;
  options.resumable = true;
  Engine e(3, options);
  e.script.hold(1);
  for (uint64_t n = 1; n <= 4; ++n) e.sink->deliver(batch_of(n));
  e.script.await_calls(3);
  e.sink->shutdown(false);
  e.script.release(1);
  e.drain();
  CHECK(e.script.calls().size() == 4);
  CHECK(e.metrics.delivered_batches.get() == 4);
}
