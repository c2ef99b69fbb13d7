#include "deliver/batch_attempts.h"

#include <fmt/format.h>

#include "diagnostics.h"

namespace batchpipe {

std::string describe_batch(const Batch& batch) {
  return fmt::format("batch {} ({} record{})", batch.number, batch.records, batch.records == 1 ? "" : "s");
}

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
    diag::warning(fmt::format("{}: {}; retry {} of {} in {}", describe_batch(batch), result.detail, info.attempt,
                              options.retry.retries, format_duration(next.delay)));
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
