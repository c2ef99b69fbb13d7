#include <catch2/catch.hpp>

#include "deliver/retry_policy.h"

using namespace batchpipe;
using namespace std::chrono_literals;

TEST_CASE("backoff doubles from the base, stays in [d/2, d] and is capped") {
  RetryOptions o{.retries = 10, .delay = 500ms, .max_delay = 4s, .max_time = 0s};
  std::mt19937_64 rng(42);
  const Duration expected[] = {500ms, 1s, 2s, 4s, 4s, 4s};
  for (uint32_t retry = 1; retry <= 6; ++retry) {
    Duration d = expected[retry - 1];
    Duration lo = d, hi = Duration::zero();
    for (int i = 0; i < 2000; ++i) {
      Duration got = backoff_delay(o, retry, rng);
      REQUIRE(got >= d / 2);
      REQUIRE(got <= d);
      lo = std::min(lo, got);
      hi = std::max(hi, got);
    }
    // The whole range is used, not one end of it.
    CHECK(lo < d / 2 + d / 10);
    CHECK(hi > d - d / 10);
  }
}

TEST_CASE("a huge retry count does not overflow the doubling") {
  RetryOptions o{.retries = 1000, .delay = 1s, .max_delay = 30s, .max_time = 0s};
  std::mt19937_64 rng(1);
  Duration got = backoff_delay(o, 900, rng);
  CHECK(got >= 15s);
  CHECK(got <= 30s);
}

TEST_CASE("the same seed gives the same schedule") {
  RetryOptions o;
  std::mt19937_64 a(7), b(7);
  for (uint32_t k = 1; k < 6; ++k) CHECK(backoff_delay(o, k, a) == backoff_delay(o, k, b));
}

TEST_CASE("retry decisions") {
  RetryOptions o{.retries = 2, .delay = 100ms, .max_delay = 1s, .max_time = 0s};
  std::mt19937_64 rng(3);
  AttemptResult failed{Outcome::Retryable, "boom", std::nullopt};

  SECTION("retries run out after --retries") {
    CHECK(decide_retry(o, 1, failed, 0s, rng).retry);
    CHECK(decide_retry(o, 2, failed, 0s, rng).retry);
    RetryDecision last = decide_retry(o, 3, failed, 0s, rng);
    CHECK_FALSE(last.retry);
    CHECK(last.reason.find("3 attempts") != std::string::npos);
  }
  SECTION("permanent failures and cancellation are never retried") {
    CHECK_FALSE(decide_retry(o, 1, {Outcome::Permanent, "404", std::nullopt}, 0s, rng).retry);
    CHECK_FALSE(decide_retry(o, 1, {Outcome::Cancelled, "", std::nullopt}, 0s, rng).retry);
    CHECK_FALSE(decide_retry(o, 1, {Outcome::Delivered, "", std::nullopt}, 0s, rng).retry);
  }
  SECTION("Retry-After replaces the backoff, clamped to --retry-max-delay") {
    AttemptResult later{Outcome::Retryable, "429", 700ms};
    CHECK(decide_retry(o, 1, later, 0s, rng).delay == Duration(700ms));
    later.retry_after = 5s;
    CHECK(decide_retry(o, 1, later, 0s, rng).delay == Duration(1s));
  }
  SECTION("--retry-max-time: give up when the next wait would pass the budget") {
    RetryOptions budget = o;
    budget.max_time = 2s;
    AttemptResult later{Outcome::Retryable, "503", 900ms};
    CHECK(decide_retry(budget, 1, later, 1s, rng).retry);
    CHECK_FALSE(decide_retry(budget, 1, later, 1200ms, rng).retry);
    // A Retry-After beyond the budget gives up at once, even though its
    // clamped form (1s) would still fit.
    later.retry_after = 10s;
    CHECK_FALSE(decide_retry(budget, 1, later, 0s, rng).retry);
  }
  SECTION("--retries inf never runs out, but permanent failures and the budget still end it") {
    RetryOptions forever = o;
    forever.retries = kRetriesForever;
    for (uint32_t attempt : {1u, 3u, 1000u, 1000000u, kRetriesForever - 1, kRetriesForever}) {
      RetryDecision d = decide_retry(forever, attempt, failed, 0s, rng);
      CHECK(d.retry);
      CHECK(d.delay <= Duration(1s));
    }
    CHECK_FALSE(decide_retry(forever, 1, {Outcome::Permanent, "404", std::nullopt}, 0s, rng).retry);
    forever.max_time = 1h;
    CHECK(decide_retry(forever, 50000, failed, 59min, rng).retry);
    RetryDecision late = decide_retry(forever, 50000, failed, 1h, rng);
    CHECK_FALSE(late.retry);
    CHECK(late.reason == "the next retry would pass --retry-max-time 3600.0s");
  }
  SECTION("no retries at all") {
    RetryOptions none = o;
    none.retries = 0;
    CHECK_FALSE(decide_retry(none, 1, failed, 0s, rng).retry);
  }
}

TEST_CASE("a Retry-After as long as can be still respects --retry-max-time") {
  RetryOptions o{.retries = 5, .delay = 1s, .max_delay = 30s, .max_time = 10s};
  std::mt19937_64 rng(3);
  for (Duration wanted : {Duration(std::chrono::seconds(UINT32_MAX)), Duration::max(), Duration(11s)}) {
    AttemptResult r{Outcome::Retryable, "HTTP 503", wanted, 0};
    RetryDecision d = decide_retry(o, 1, r, 2s, rng);
    CHECK_FALSE(d.retry);
    CHECK(d.reason == "the next retry would pass --retry-max-time 10.0s");
  }
  // Without a budget it is clamped to the longest delay.
  o.max_time = 0s;
  AttemptResult r{Outcome::Retryable, "HTTP 503", Duration::max(), 0};
  RetryDecision d = decide_retry(o, 1, r, Duration::max() / 2, rng);
  CHECK(d.retry);
  CHECK(d.delay == 30s);
}
