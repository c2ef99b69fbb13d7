// --parallel auto: what an attempt's result tells the controller, and the
// gate's slots, single-threaded (concurrency_controller_test.cc has the rule).
#include <catch2/catch.hpp>

#include "deliver/adaptive_transport.h"

using namespace batchpipe;

namespace {

AttemptResult result(Outcome outcome, int status) {
  AttemptResult r;
  r.outcome = outcome;
  r.status = status;
  return r;
}

}  // namespace

TEST_CASE("429, 503 and timeouts are overloads; deliveries are samples; the rest says nothing") {
  CHECK(signal_of(result(Outcome::Delivered, 200), false) == AttemptSignal::Success);
  CHECK(signal_of(result(Outcome::Retryable, 429), false) == AttemptSignal::Overload);
  CHECK(signal_of(result(Outcome::Retryable, 503), false) == AttemptSignal::Overload);
  CHECK(signal_of(result(Outcome::Retryable, 0), true) == AttemptSignal::Overload);
  CHECK(signal_of(result(Outcome::Retryable, 500), false) == AttemptSignal::Other);
  CHECK(signal_of(result(Outcome::Retryable, 0), false) == AttemptSignal::Other);  // no connection
  CHECK(signal_of(result(Outcome::Permanent, 400), false) == AttemptSignal::Other);
  CHECK(signal_of(result(Outcome::Cancelled, 0), true) == AttemptSignal::Other);
}

TEST_CASE("the gate starts with one slot, shown in the metrics, and a cancelled attempt does not wait for one") {
  Metrics m;
  ConcurrencyGate gate({}, m);
  CHECK(m.concurrency_limit.get() == 1);
  AttemptControl first;
  bool saturated = false;
  REQUIRE(gate.enter(first, saturated));
  CHECK(saturated);  // it took the only slot
  AttemptControl second;
  second.cancel();
  CHECK_FALSE(gate.enter(second, saturated));
  gate.leave(std::chrono::milliseconds(5), AttemptSignal::Other, true);
  AttemptControl third;
  CHECK(gate.enter(third, saturated));
  gate.leave(std::chrono::milliseconds(5), AttemptSignal::Other, true);
  CHECK(m.concurrency_limit.get() == 1);
}
