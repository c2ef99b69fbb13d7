// The rules of one batch's attempts, with a scripted transport and a fake
// clock: waits advance the clock instead of sleeping.
#include <catch2/catch.hpp>

#include <set>

#include "deliver/batch_attempts.h"
#include "base/diagnostics.h"
#include "fake_transport.h"

using namespace batchpipe;
using namespace batchpipe::testing;
using namespace std::chrono_literals;

namespace {

class FakeEnv : public AttemptEnv {
 public:
  TimePoint now() override { return now_; }
  std::string why_not(uint32_t attempt) override {
    if (stopped) return "not tried: delivery stopped after an earlier failure";
    if (shutting_down && attempt > 1) return "no retries while shutting down";
    return {};
  }
  bool wait(Duration delay) override {
    waits.push_back(delay);
    now_ += delay;
    if (shut_down_during_wait) shutting_down = true;
    return !shutting_down && !stopped;
  }
  void holding(uint64_t bytes) override { held.push_back(bytes); }

  TimePoint now_{};
  std::vector<uint64_t> held;  ///< what holding() was told, in order
  std::vector<Duration> waits;
  bool stopped = false;
  bool shutting_down = false;
  bool shut_down_during_wait = false;
};

Batch batch_of(uint64_t number, uint64_t records) {
  Batch b;
  BatchEncoder::open(b);
  for (uint64_t i = 0; i < records; ++i) BatchEncoder::append(b, "1");
  BatchEncoder::close(b);
  b.number = number;
  return b;
}

struct Run {
  FakeScript script;
  FakeTransport transport{script};
  AttemptControl control;
  FakeEnv env;
  AttemptOptions options;
  std::mt19937_64 rng{7};
  Metrics metrics;

  BatchResult go(uint64_t number = 1) {
    return attempt_batch(batch_of(number, 3), "run-1", transport, control, env, options, rng, metrics);
  }
};

}  // namespace

TEST_CASE("a transient failure is retried with backoff and delivered once", "[attempts]") {
  diag::set_quiet(true);
  Run r;
  r.options.retry = {.retries = 5, .delay = 100ms, .max_delay = 10s, .max_time = 0s};
  r.script.on(1, 1, Outcome::Retryable);
  r.script.on(1, 2, Outcome::Retryable);
  BatchResult out = r.go();
  CHECK(out.delivered);
  CHECK(out.attempts == 3);
  auto calls = r.script.calls();
  REQUIRE(calls.size() == 3);
  for (auto& c : calls) CHECK(c.id == "run-1");  // the same id on every attempt
  REQUIRE(r.env.waits.size() == 2);
  CHECK(r.env.waits[0] >= 50ms);
  CHECK(r.env.waits[0] <= 100ms);
  CHECK(r.env.waits[1] >= 100ms);
  CHECK(r.env.waits[1] <= 200ms);
  CHECK(r.metrics.attempts.get() == 3);
  CHECK(r.metrics.retries.get() == 2);
  CHECK(r.metrics.retrying.get() == 0);
}

TEST_CASE("a permanent failure is not retried", "[attempts]") {
  diag::set_quiet(true);
  Run r;
  r.script.on(1, 1, Outcome::Permanent, "HTTP 400");
  BatchResult out = r.go();
  CHECK_FALSE(out.delivered);
  CHECK(out.permanent);
  CHECK(out.attempts == 1);
  CHECK(out.reason == "HTTP 400; not retried");
  CHECK(r.env.waits.empty());
}

TEST_CASE("retries run out after --retries", "[attempts]") {
  diag::set_quiet(true);
  Run r;
  r.options.retry = {.retries = 2, .delay = 1ms, .max_delay = 1s, .max_time = 0s};
  for (uint32_t a = 1; a <= 5; ++a) r.script.on(1, a, Outcome::Retryable, "boom");
  BatchResult out = r.go();
  CHECK_FALSE(out.delivered);
  CHECK_FALSE(out.permanent);
  CHECK(out.attempts == 3);
  CHECK(out.reason == "boom; no retries left after 3 attempts");
}

TEST_CASE("--retries inf keeps trying a receiver that is down for over an hour", "[attempts]") {
  diag::set_quiet(true);
  Run r;
  r.options.retry = {.retries = kRetriesForever, .delay = 500ms, .max_delay = 30s, .max_time = 0s};
  // Waits are at least 15s once the doubling reaches the cap: 300 failures are more than an hour.
  constexpr uint32_t kFailures = 300;
  for (uint32_t a = 1; a <= kFailures; ++a) r.script.on(1, a, Outcome::Retryable, "HTTP 503");
  BatchResult out = r.go();
  CHECK(out.delivered);
  CHECK(out.attempts == kFailures + 1);
  CHECK(r.env.now_ - TimePoint{} > Duration(1h));
  CHECK(r.metrics.retries.get() == kFailures);
}

TEST_CASE("Retry-After replaces the backoff, and --retry-max-time bounds the waiting", "[attempts]") {
  diag::set_quiet(true);
  Run r;
  r.options.retry = {.retries = 10, .delay = 1ms, .max_delay = 1min, .max_time = 10s};
  r.script.on(1, 1, Outcome::Retryable, "HTTP 503", 4s);
  r.script.on(1, 2, Outcome::Retryable, "HTTP 503", 4s);
  r.script.on(1, 3, Outcome::Retryable, "HTTP 503", 4s);
  BatchResult out = r.go();
  CHECK_FALSE(out.delivered);
  CHECK(r.env.waits == std::vector<Duration>{4s, 4s});  // 8s spent; 4s more would pass 10s
  CHECK(out.reason == "HTTP 503; the next retry would pass --retry-max-time 10.0s");
}

TEST_CASE("shutdown ends the wait for a retry and gives the batch up", "[attempts]") {
  diag::set_quiet(true);
  Run r;
  r.options.retry = {.retries = 5, .delay = 1s, .max_delay = 1s, .max_time = 0s};
  r.script.on(1, 1, Outcome::Retryable, "boom");
  r.env.shut_down_during_wait = true;
  BatchResult out = r.go();
  CHECK_FALSE(out.delivered);
  CHECK(out.attempts == 1);
  CHECK(out.reason == "boom; no retries while shutting down");
}

TEST_CASE("a give-up because the run stopped trying is cut short; one the receiver caused is not", "[attempts]") {
  diag::set_quiet(true);
  {
    Run r;  // shutdown during the wait for a retry
    r.options.retry = {.retries = 5, .delay = 1s, .max_delay = 1s, .max_time = 0s};
    r.script.on(1, 1, Outcome::Retryable, "boom");
    r.env.shut_down_during_wait = true;
    CHECK(r.go().cut_short);
  }
  {
    Run r;  // retries run out: the receiver's doing
    r.options.retry = {.retries = 1, .delay = 1s, .max_delay = 1s, .max_time = 0s};
    r.script.on(1, 1, Outcome::Retryable, "boom");
    r.script.on(1, 2, Outcome::Retryable, "boom");
    BatchResult out = r.go();
    CHECK_FALSE(out.delivered);
    CHECK_FALSE(out.cut_short);
  }
}

TEST_CASE("no retry is even announced while shutting down", "[attempts]") {
  diag::set_quiet(true);
  Run r;
  r.script.on(1, 1, Outcome::Retryable, "boom");
  r.env.shutting_down = true;
  BatchResult out = r.go();
  CHECK(out.attempts == 1);
  CHECK(r.env.waits.empty());
  CHECK(out.reason == "boom; no retries while shutting down");
}

TEST_CASE("a batch is not tried at all once delivery stopped", "[attempts]") {
  diag::set_quiet(true);
  Run r;
  r.env.stopped = true;
  BatchResult out = r.go();
  CHECK_FALSE(out.delivered);
  CHECK(out.attempts == 0);
  CHECK(r.script.calls().empty());
  CHECK(out.reason == "not tried: delivery stopped after an earlier failure");
}

namespace {

/// Reads a "reply" from the records themselves: "reject" is refused, "busy"
/// is to be sent again until it has been sent `busy_rounds` times, "gone"
/// was stored already; the rest is stored. `broken_first` makes the first
/// reply unusable.
class FakeReader : public ReplyReader {
 public:
  ReplyVerdict read(const Batch& sent, std::string_view) const override {
    ReplyVerdict v;
    if (broken_first && reads++ == 0) {
      v.broken = "unreadable";
      return v;
    }
    ++busy_seen;
    for (size_t i = 0; i < sent.records; ++i) {
      std::string_view r = sent.record(i);
      if (r == "\"reject\"") v.items.push_back({ItemFate::Rejected, "HTTP 400 bad"});
      else if (r == "\"busy\"" && busy_seen <= busy_rounds) v.items.push_back({ItemFate::Retry, "HTTP 429 slow down"});
      else if (r == "\"gone\"") v.items.push_back({ItemFate::AlreadyPresent, ""});
      else v.items.push_back({ItemFate::Stored, ""});
    }
    return v;
  }
  int busy_rounds = 1;
  bool broken_first = false;
  mutable int reads = 0;
  mutable int busy_seen = 0;
};

Batch batch_of_records(const std::vector<std::string>& records) {
  Batch b;
  BatchEncoder::open(b);
  for (const std::string& r : records) BatchEncoder::append(b, r);
  BatchEncoder::close(b);
  b.number = 1;
  return b;
}

}  // namespace

TEST_CASE("a reply's items: refused ones fail alone, busy ones go again as a part with an id of its own",
          "[attempts]") {
  diag::set_quiet(true);
  Run r;
  FakeReader reader;
  reader.busy_rounds = 2;
  r.options.reader = &reader;
  r.options.retry = {.retries = 5, .delay = 100ms, .max_delay = 10s, .max_time = 0s};
  Batch b = batch_of_records({"1", "\"busy\"", "\"reject\"", "\"gone\"", "\"busy\"", "6"});
  BatchResult out = attempt_batch(b, "run-1", r.transport, r.control, r.env, r.options, r.rng, r.metrics);
  CHECK(out.delivered);
  REQUIRE(out.failed.size() == 1);
  CHECK(out.failed[0].index == 2);
  CHECK(out.failed[0].reason == "HTTP 400 bad");
  CHECK(out.already_stored == 1);
  CHECK(out.retried_records == 4);  // the two busy records, twice
  auto calls = r.script.calls();
  REQUIRE(calls.size() == 3);
  CHECK(calls[0].body == b.bytes);
  CHECK(calls[1].body == "[\"busy\",\"busy\"]\n");
  CHECK(calls[2].body == "[\"busy\",\"busy\"]\n");
  CHECK(calls[0].id == "run-1");
  CHECK(calls[1].id == "run-1.1");
  CHECK(calls[2].id == "run-1.2");
  CHECK(r.env.waits.size() == 2);  // backoff before each part, as before any retry
}

TEST_CASE("records still busy when retries run out fail alone; the rest stays delivered", "[attempts]") {
  diag::set_quiet(true);
  Run r;
  FakeReader reader;
  reader.busy_rounds = 100;
  r.options.reader = &reader;
  r.options.retry = {.retries = 2, .delay = 1ms, .max_delay = 1ms, .max_time = 0s};
  Batch b = batch_of_records({"1", "\"busy\"", "3"});
  BatchResult out = attempt_batch(b, "run-1", r.transport, r.control, r.env, r.options, r.rng, r.metrics);
  CHECK(out.delivered);
  REQUIRE(out.failed.size() == 1);
  CHECK(out.failed[0].index == 1);
  CHECK_THAT(out.failed[0].reason, Catch::Contains("no retries left after 3 attempts"));
  CHECK(r.script.calls().size() == 3);
}

TEST_CASE("an unreadable reply fails the attempt, which is retried whole", "[attempts]") {
  diag::set_quiet(true);
  Run r;
  FakeReader reader;
  reader.broken_first = true;
  r.options.reader = &reader;
  r.options.retry = {.retries = 2, .delay = 1ms, .max_delay = 1ms, .max_time = 0s};
  Batch b = batch_of_records({"1", "2"});
  BatchResult out = attempt_batch(b, "run-1", r.transport, r.control, r.env, r.options, r.rng, r.metrics);
  CHECK(out.delivered);
  CHECK(out.failed.empty());
  auto calls = r.script.calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[1].body == calls[0].body);
  CHECK(calls[1].id == "run-1");
}

namespace {

/// Fails every attempt with `shared` (a failure every batch would share, or not).
class SharedFailure : public Transport {
 public:
  SharedFailure(Shared shared, Outcome outcome) : shared_(shared), outcome_(outcome) {}
  AttemptResult attempt(const Batch&, const AttemptInfo&, AttemptControl&) override {
    ++calls;
    AttemptResult r{outcome_, "HTTP 404 from h:80", std::nullopt};
    r.shared = shared_;
    r.fix = "check the path";
    return r;
  }
  int calls = 0;

 private:
  Shared shared_;
  Outcome outcome_;
};

class DeliveredBefore : public FakeEnv {
 public:
  bool delivered_any() override { return true; }
};

}  // namespace

TEST_CASE("a failure every batch would share stops the run, without retries", "[attempts]") {
  diag::set_quiet(true);
  Run r;
  SharedFailure t(Shared::Always, Outcome::Permanent);
  BatchResult out = attempt_batch(batch_of(1, 3), "run-1", t, r.control, r.env, r.options, r.rng, r.metrics);
  CHECK(t.calls == 1);
  CHECK(out.stops_run);
  CHECK(out.permanent);
  CHECK(out.fix == "check the path");
  CHECK(out.reason == "HTTP 404 from h:80; not retried");
}

TEST_CASE("a name that does not resolve stops the run only if nothing was delivered yet", "[attempts]") {
  diag::set_quiet(true);
  Run r;
  r.options.retry = {.retries = 2, .delay = 1ms, .max_delay = 1ms, .max_time = 0s};
  SharedFailure t(Shared::UntilDelivered, Outcome::Retryable);
  BatchResult first = attempt_batch(batch_of(1, 3), "run-1", t, r.control, r.env, r.options, r.rng, r.metrics);
  CHECK(first.stops_run);
  CHECK(t.calls == 1);
  DeliveredBefore later;
  BatchResult out = attempt_batch(batch_of(2, 3), "run-2", t, r.control, later, r.options, r.rng, r.metrics);
  CHECK_FALSE(out.stops_run);
  CHECK(t.calls == 1 + 3);  // retried as a DNS blip
}

namespace {

/// Refuses a body over `limit` bytes with 413, and one holding "poison" with
/// 400 (when `poison` is set); records every request.
class Picky : public Transport {
 public:
  AttemptResult attempt(const Batch& b, const AttemptInfo& info, AttemptControl&) override {
    calls.push_back({std::string(b.body()), info.batch_id});
    AttemptResult r;
    if (b.body().size() > limit) {
      r = {Outcome::Permanent, "HTTP 413 from h:80", std::nullopt};
      r.status = 413;
    } else if (b.body().find("poison") != std::string_view::npos) {
      r = {Outcome::Permanent, "HTTP 400 from h:80: \"bad record\"", std::nullopt};
      r.status = 400;
      r.bisect = bisect;  // as a transport with --bisect-on 400 marks it
    }
    r.bytes_sent = b.body().size();
    return r;
  }
  size_t limit = SIZE_MAX;
  bool bisect = false;
  std::vector<std::pair<std::string, std::string>> calls;
};

std::vector<std::string> numbers(size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back(std::to_string(1000 + i));
  return out;
}

}  // namespace

TEST_CASE("413 splits a batch in halves until each piece fits; every record goes once", "[attempts]") {
  diag::set_quiet(true);
  Run r;
  Picky t;
  t.limit = 30;  // "[1000,1001,...]\n": 5 records per request at most
  Batch b = batch_of_records(numbers(20));
  BatchResult out = attempt_batch(b, "run-1", t, r.control, r.env, r.options, r.rng, r.metrics);
  CHECK(out.delivered);
  CHECK(out.failed.empty());
  std::string sent;
  std::set<std::string> ids;
  for (auto& [body, id] : t.calls) {
    ids.insert(id);
    if (body.size() <= t.limit) sent += body;
  }
  CHECK(ids.size() == t.calls.size());  // each piece an Idempotency-Key of its own
  std::string expect;
  for (const std::string& n : numbers(20)) expect += n;
  std::string got;
  for (char c : sent)
    if (c >= '0' && c <= '9') got += c;
  CHECK(got == expect);  // in order, once each
  CHECK(t.calls.size() == 7);  // 20 -> 10+10 -> 5+5+5+5
  // The first half goes first and is ".1", the second ".2": as the man page numbers them.
  CHECK(t.calls[1].second == "run-1.1");
  CHECK(t.calls[1].first.find(numbers(20)[0]) != std::string::npos);
  CHECK(r.env.waits.empty());  // a split is not a retry: no backoff
  CHECK(r.metrics.too_large.get() == 3);
  CHECK(r.metrics.split_requests.get() == 3);
  // Each part's body is made when its turn comes, and said: 10, 5, 5, 10, 5, 5.
  CHECK(r.env.held.size() == 6);
  for (uint64_t h : r.env.held) CHECK(h > 0);
}

TEST_CASE("a single record still too large fails alone; the rest of the batch goes", "[attempts]") {
  diag::set_quiet(true);
  Run r;
  Picky t;
  t.limit = 12;
  Batch b = batch_of_records({"1", "\"a long one here\"", "3"});
  BatchResult out = attempt_batch(b, "run-1", t, r.control, r.env, r.options, r.rng, r.metrics);
  CHECK(out.delivered);
  REQUIRE(out.failed.size() == 1);
  CHECK(out.failed[0].index == 1);
  CHECK(out.failed[0].reason == "HTTP 413 from h:80");
}

TEST_CASE("--bisect-on isolates a poisoned record in a logarithmic number of requests", "[attempts]") {
  diag::set_quiet(true);
  for (size_t size : {2u, 3u, 7u, 100u, 1000u}) {
    for (size_t bad : {size_t{0}, size / 2, size - 1}) {
      Run r;
      Picky t;
      t.bisect = true;
      auto records = numbers(size);
      records[bad] = "\"poison\"";
      Batch b = batch_of_records(records);
      BatchResult out = attempt_batch(b, "run-1", t, r.control, r.env, r.options, r.rng, r.metrics);
      CHECK(out.delivered);
      REQUIRE(out.failed.size() == 1);
      CHECK(out.failed[0].index == bad);
      CHECK_THAT(out.failed[0].reason, Catch::Contains("bad record"));
      size_t log2 = 0;
      while ((size_t{1} << log2) < size) ++log2;
      CHECK(t.calls.size() <= 2 * log2 + 2);
    }
  }
}

TEST_CASE("without --bisect-on a 400 fails the whole batch in one request", "[attempts]") {
  diag::set_quiet(true);
  Run r;
  Picky t;
  Batch b = batch_of_records({"1", "\"poison\"", "3"});
  BatchResult out = attempt_batch(b, "run-1", t, r.control, r.env, r.options, r.rng, r.metrics);
  CHECK_FALSE(out.delivered);
  CHECK(out.permanent);
  CHECK(t.calls.size() == 1);
}
