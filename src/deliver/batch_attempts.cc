#include "deliver/batch_attempts.h"

#include <fmt/format.h>

#include "diagnostics.h"

namespace batchpipe {

std::string describe_batch(const Batch& batch) {
  return fmt::format("batch {} ({} record{})", batch.number, batch.records, batch.records == 1 ? "" : "s");
}

namespace {

/// "of 5", or "of inf" with --retries inf.
std::string retries_left(const RetryOptions& retry) {
  return retry.retries == kRetriesForever ? "of inf" : fmt::format("of {}", retry.retries);
}

}  // namespace

BatchResult attempt_batch(const Batch& batch, const std::string& id, Transport& transport, AttemptControl& control,
                          AttemptEnv& env, const AttemptOptions& options, std::mt19937_64& rng, Metrics& metrics) {
  BatchResult out;
  AttemptInfo info{batch.number, 0, id};
  TimePoint first_try = env.now();
  for (;;) {
    ++info.attempt;
    if (std::string why = env.why_not(info.attempt); !why.empty()) {
      out.reason = std::move(why);
      return out;
    }
    out.attempts = info.attempt;
    control.begin(options.timeout);
    TimePoint started = env.now();
    metrics.attempts.add();
    AttemptResult result = transport.attempt(batch, info, control);
    metrics.attempt_latency.observe(env.now() - started);
    if (options.verbose)
      diag::warning(fmt::format("{}: attempt {}: {} in {}, {} bytes", describe_batch(batch), info.attempt,
                                result.detail.empty() ? "delivered" : result.detail,
                                format_duration(env.now() - started), result.bytes_sent));
    if (result.outcome == Outcome::Delivered) {
      out.delivered = true;
      out.output = std::move(result.output);
      return out;
    }
    if (stops_the_run(result.shared, env.delivered_any())) {
      out.stops_run = out.permanent = true;
      out.reason = fmt::format("{}; not retried", result.detail);
      out.fix = std::move(result.fix);
      return out;
    }
    RetryDecision next = decide_retry(options.retry, info.attempt, result, env.now() - first_try, rng);
    if (!next.retry) {
      out.permanent = result.outcome == Outcome::Permanent;
      out.reason = fmt::format("{}; {}", result.detail, next.reason);
      return out;
    }
    if (std::string why = env.why_not(info.attempt + 1); !why.empty()) {
      out.reason = fmt::format("{}; {}", result.detail, why);
      return out;
    }
    diag::warning(fmt::format("{}: {}; retry {} {} in {}", describe_batch(batch), result.detail, info.attempt,
                              retries_left(options.retry), format_duration(next.delay)));
    metrics.retries.add();
    metrics.retrying.add(1);
    bool waited = env.wait(next.delay);
    metrics.retrying.add(-1);
    if (!waited) {
      std::string why = env.why_not(info.attempt + 1);
      out.reason = fmt::format("{}; {}", result.detail, why.empty() ? "no retries while shutting down" : why);
      return out;
    }
  }
}

}  // namespace batchpipe
