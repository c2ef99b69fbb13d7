#include "deliver/batch_attempts.h"

#include <fmt/format.h>

#include "diagnostics.h"

namespace batchpipe {
namespace {

/// Where the records of the request being made stand in the batch.
struct Sending {
  const Batch& batch;
  std::vector<uint32_t> indices;  ///< empty: the whole batch
  Batch part;                     ///< when indices is not empty
  uint32_t parts = 0;             ///< parts made so far

  const Batch& current() const { return indices.empty() ? batch : part; }
  uint32_t index(size_t i) const { return indices.empty() ? static_cast<uint32_t>(i) : indices[i]; }
};

/// Applies what the reader says of a delivered attempt. Returns the records
/// to send again (indices in the batch); sets `result` to a retryable failure
/// when the reply is unusable or some records are to be retried.
std::vector<uint32_t> read_reply(const ReplyReader& reader, Sending& sending, AttemptResult& result,
                                 BatchResult& out) {
  std::string reply = std::move(result.reply);
  if (result.output && !read_whole(result.output.get(), reply)) {
    result = {Outcome::Retryable, "cannot read the command's output", std::nullopt, result.bytes_sent};
    return {};
  }
  const Batch& sent = sending.current();
  ReplyVerdict v = reader.read(sent, reply);
  if (!v.broken.empty()) {
    result = {Outcome::Retryable, std::move(v.broken), std::nullopt, result.bytes_sent};
    return {};
  }
  if (!v.warning.empty()) diag::warning(fmt::format("{}: {}", describe_batch(sending.batch), v.warning));
  std::vector<uint32_t> again;
  std::string first_reason;
  for (size_t i = 0; i < v.items.size(); ++i) {
    ItemVerdict& item = v.items[i];
    switch (item.fate) {
      case ItemFate::Stored: break;
      case ItemFate::AlreadyPresent: ++out.already_stored; break;
      case ItemFate::Rejected: out.failed.push_back({sending.index(i), std::move(item.reason)}); break;
      case ItemFate::Retry:
        if (first_reason.empty()) first_reason = item.reason;
        again.push_back(sending.index(i));
        break;
    }
  }
  if (reader.keeps_answers()) {
    out.answer = std::move(reply);
    out.answers = std::move(v.answers);
  }
  if (!again.empty())
    result = {Outcome::Retryable,
              fmt::format("{} of {} records to send again ({})", again.size(), sent.records, first_reason),
              std::nullopt, result.bytes_sent};
  return again;
}

}  // namespace

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
  Sending sending{batch, {}, {}, 0};
  // The records still to send fail alone once the batch is given up, if
  // part of it went already.
  auto give_up = [&](std::string reason) {
    if (sending.indices.empty()) {
      out.reason = std::move(reason);
      return std::move(out);
    }
    out.delivered = true;
    for (uint32_t i : sending.indices) out.failed.push_back({i, reason});
    return std::move(out);
  };
  TimePoint first_try = env.now();
  for (;;) {
    ++info.attempt;
    if (std::string why = env.why_not(info.attempt); !why.empty()) return give_up(std::move(why));
    out.attempts = info.attempt;
    control.begin(options.timeout);
    TimePoint started = env.now();
    metrics.attempts.add();
    const Batch& current = sending.current();
    AttemptResult result = transport.attempt(current, info, control);
    metrics.attempt_latency.observe(env.now() - started);
    std::vector<uint32_t> again;
    if (result.outcome == Outcome::Delivered && options.reader) again = read_reply(*options.reader, sending, result, out);
    if (options.verbose)
      diag::warning(fmt::format("{}: attempt {}: {} in {}, {} bytes", describe_batch(current), info.attempt,
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
    if (!again.empty()) {  // a part goes next: only those records, under an id of its own
      sending.indices = std::move(again);
      sending.part = part_of(batch, sending.indices);
      info.batch_id = fmt::format("{}.{}", id, ++sending.parts);
      out.retried_records += sending.indices.size();
    }
    if (!next.retry) {
      out.permanent = result.outcome == Outcome::Permanent;
      return give_up(fmt::format("{}; {}", result.detail, next.reason));
    }
    if (std::string why = env.why_not(info.attempt + 1); !why.empty())
      return give_up(fmt::format("{}; {}", result.detail, why));
    diag::warning(fmt::format("{}: {}; retry {} {} in {}", describe_batch(batch), result.detail, info.attempt,
                              retries_left(options.retry), format_duration(next.delay)));
    metrics.retries.add();
    metrics.retrying.add(1);
    bool waited = env.wait(next.delay);
    metrics.retrying.add(-1);
    if (!waited) {
      std::string why = env.why_not(info.attempt + 1);
      return give_up(fmt::format("{}; {}", result.detail, why.empty() ? "no retries while shutting down" : why));
    }
  }
}

}  // namespace batchpipe
