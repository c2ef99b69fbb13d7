// --rate: the shared pacer and its transport. The bucket's arithmetic is in
// token_bucket_test; here, what a wait does to the attempt's clock and how it
// ends early. Rates are chosen so that no test waits.
#include <catch2/catch.hpp>

#include "deliver/pacer.h"

using namespace batchpipe;
using namespace std::chrono_literals;

namespace {

class Counting : public Transport {
 public:
  AttemptResult attempt(const Batch&, const AttemptInfo&, AttemptControl&) override {
    ++calls;
    return {Outcome::Delivered, "", std::nullopt};
  }
  int calls = 0;
};

}  // namespace

TEST_CASE("the first request goes at once, with the attempt's timeout still running", "[pacer]") {
  Pacer pacer({1, std::chrono::minutes(1)});
  AttemptControl control;
  control.begin(30s);
  TimePoint before = Clock::now();
  REQUIRE(pacer.wait_turn(control));
  REQUIRE(control.deadline());
  CHECK(*control.deadline() >= before + 30s);
}

TEST_CASE("a wait for a turn ends at the shutdown grace, and the request is not sent", "[pacer]") {
  auto pacer = std::make_shared<Pacer>(Rate{1, std::chrono::minutes(1)});
  auto inner = std::make_unique<Counting>();
  Counting* counting = inner.get();
  PacedTransport paced(std::move(inner), pacer);
  AttemptControl control;
  Batch batch;
  CHECK(paced.attempt(batch, {1, 1, "r-1"}, control).outcome == Outcome::Delivered);
  control.limit(Clock::now());  // the grace is over: the next turn, a minute away, is not waited for
  AttemptResult r = paced.attempt(batch, {2, 1, "r-2"}, control);
  CHECK(r.outcome == Outcome::Retryable);
  CHECK(r.detail == "not sent: cut short at the end of the shutdown grace");
  CHECK(counting->calls == 1);
}

TEST_CASE("a cancelled attempt does not wait for its turn", "[pacer]") {
  auto pacer = std::make_shared<Pacer>(Rate{1, std::chrono::minutes(1)});
  PacedTransport paced(std::make_unique<Counting>(), pacer);
  AttemptControl control;
  Batch batch;
  paced.attempt(batch, {1, 1, "r-1"}, control);
  control.cancel();
  CHECK(paced.attempt(batch, {2, 1, "r-2"}, control).outcome == Outcome::Cancelled);
}

TEST_CASE("the wait stops the attempt's own clock: --timeout counts from the request", "[pacer]") {
  Pacer pacer({1000000, 1s});  // a turn every microsecond: the second waits about that long
  AttemptControl control;
  control.begin(1ms);
  REQUIRE(pacer.wait_turn(control));
  TimePoint before = Clock::now();
  REQUIRE(pacer.wait_turn(control));
  REQUIRE(control.deadline());
  CHECK(*control.deadline() >= before + 1ms);
  CHECK(control.deadline_reason() == "timed out after 1ms");
}
