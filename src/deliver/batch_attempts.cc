#include "deliver/batch_attempts.h"

#include <sys/stat.h>

#include <algorithm>
#include <deque>

#include <fmt/format.h>

#include "base/diagnostics.h"

namespace batchpipe {
namespace {

/// A request to make: some records of the batch, its own id and tries.
struct Part {
  std::vector<uint32_t> indices;  ///< empty: the whole batch
  std::string id;
  uint32_t tries = 0;
  Batch body;                     ///< the records re-encoded, when indices is not empty; made
                                  ///< when the part comes to the front: one part's copy at a time
  bool resend = false;            ///< records a reply asked to send again (_bulk 429/5xx items)
};

/// Where the records of the request being made stand in the batch.
struct Sending {
  const Batch& batch;
  Part* part;

  const Batch& current() const { return part->indices.empty() ? batch : part->body; }
  uint32_t index(size_t i) const { return part->indices.empty() ? static_cast<uint32_t>(i) : part->indices[i]; }
  size_t records() const { return current().records; }
};

/// "batch 7 (1000 records)", and for a part ", records 501-1000" (or ", 3 of
/// its records" when they are not one run), so that a message says which.
std::string describe_part(const Batch& batch, const Part& part) {
  std::string out = describe_batch(batch);
  const std::vector<uint32_t>& in = part.indices;
  if (in.empty()) return out;
  if (in.back() - in.front() + 1 == in.size())
    return in.size() == 1 ? fmt::format("{}, record {}", out, in.front() + 1)
                          : fmt::format("{}, records {}-{}", out, in.front() + 1, in.back() + 1);
  return fmt::format("{}, {} of its records", out, in.size());
}

Part make_part(std::vector<uint32_t> indices, std::string id) { return Part{std::move(indices), std::move(id), 0, {}}; }

/// Whether a refusal means "send fewer records": 413 always, and what the
/// user's rules mark so (--bisect-on, --bisect-reply; see failure_rules.h).
bool splits(const AttemptResult& result) {
  return result.outcome != Outcome::Delivered && (result.status == 413 || result.bisect);
}

/// Applies what the reader says of a delivered attempt. Returns the records
/// to send again (indices in the batch); sets `result` to a retryable failure
/// when the reply is unusable or some records are to be retried.
std::vector<uint32_t> read_reply(const ReplyReader& reader, uint64_t limit, Sending& sending, AttemptResult& result,
                                 BatchResult& out) {
  std::string reply = std::move(result.reply);
  struct stat st {};
  if (result.output && limit && ::fstat(result.output.get(), &st) == 0 && static_cast<uint64_t>(st.st_size) > limit) {
    result = {Outcome::Permanent,
              fmt::format("the command's answer ({} bytes) is larger than --max-buffer ({} bytes): raise --max-buffer "
                          "or lower --size",
                          st.st_size, limit),
              std::nullopt, result.bytes_sent};
    return {};
  }
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

std::pair<std::vector<uint32_t>, std::vector<uint32_t>> halves(const std::vector<uint32_t>& indices) {
  size_t mid = indices.size() / 2;
  return {std::vector<uint32_t>(indices.begin(), indices.begin() + static_cast<long>(mid)),
          std::vector<uint32_t>(indices.begin() + static_cast<long>(mid), indices.end())};
}

BatchResult attempt_batch(const Batch& batch, const std::string& id, Transport& transport, AttemptControl& control,
                          AttemptEnv& env, const AttemptOptions& options, std::mt19937_64& rng, Metrics& metrics) {
  BatchResult out;
  AttemptInfo info{batch.number, 0, id};
  std::deque<Part> todo;  // the requests still to make, in order
  todo.push_back(Part{{}, id, 0, {}});
  uint32_t parts = 0;  // made so far: each gets the id "<id>.<n>"
  auto next_id = [&] { return fmt::format("{}.{}", id, ++parts); };
  // Gives up every request still to make. The whole batch fails as one if
  // nothing of it went; otherwise each record left fails alone.
  int said = 0;  // the last attempt's status, HTTP or exit
  auto give_up = [&](std::string reason) {
    if (todo.size() == 1 && todo.front().indices.empty()) {
      out.reason = std::move(reason);
      out.status = said;
      return std::move(out);
    }
    out.delivered = true;
    for (Part& p : todo)
      for (uint32_t i : p.indices) out.failed.push_back({i, reason, said});
    std::sort(out.failed.begin(), out.failed.end(),
              [](const RecordFailure& a, const RecordFailure& b) { return a.index < b.index; });
    return std::move(out);
  };
  TimePoint first_try = env.now();
  while (!todo.empty()) {
    Part& part = todo.front();
    if (!part.indices.empty() && part.body.records == 0) {
      part.body = part_of(batch, part.indices);
      env.holding(part.body.memory());
    }
    Sending sending{batch, &part};
    ++info.attempt;
    ++part.tries;
    info.batch_id = part.id;
    // A part's first request is not a retry: it may still go while shutting down.
    if (std::string why = env.why_not(part.tries == 1 ? 1 : info.attempt); !why.empty()) {
      out.cut_short = true;
      return give_up(std::move(why));
    }
    out.attempts = info.attempt;
    control.begin(options.timeout);
    TimePoint started = env.now();
    metrics.attempts.add();
    const Batch& current = sending.current();
    if (part.resend) out.retried_records += current.records;
    AttemptResult result = transport.attempt(current, info, control);
    said = result.status ? result.status : result.exit_status;
    metrics.attempt_latency.observe(env.now() - started);
    std::vector<uint32_t> again;
    if (result.outcome == Outcome::Delivered && options.reader) again = read_reply(*options.reader, options.reply_limit, sending, result, out);
    if (options.verbose)
      diag::warning(fmt::format("{}: attempt {}: {} in {}, {} bytes", describe_batch(current), info.attempt,
                                result.detail.empty() ? "delivered" : result.detail,
                                format_duration(env.now() - started), result.bytes_sent));
    if (result.outcome == Outcome::Delivered) {
      out.output = std::move(result.output);
      todo.pop_front();
      continue;
    }
    if (stops_the_run(result.shared, env.delivered_any()) && todo.size() == 1 && part.indices.empty()) {
      out.stops_run = out.permanent = true;
      out.reason = fmt::format("{}; not retried", result.detail);
      out.status = said;
      out.fix = std::move(result.fix);
      return out;
    }
    if (splits(result) && !(options.reader && options.reader->keeps_answers())) {
      if (sending.records() == 1) {  // isolated: this record fails alone, with the receiver's reason
        out.failed.push_back({sending.index(0), result.detail, said});
        todo.pop_front();
        continue;
      }
      if (result.status == 413 && metrics.too_large.add() == 0)
        diag::warning(fmt::format("{}: {}: splitting batches the receiver finds too large; a --max-bytes below {} "
                                  "spares the extra requests",
                                  describe_batch(current), result.detail, current.body().size()));
      std::vector<uint32_t> all = part.indices;
      if (all.empty())
        for (uint32_t i = 0; i < batch.records; ++i) all.push_back(i);
      auto [first, second] = halves(all);
      metrics.split_requests.add();
      todo.pop_front();
      std::string first_id = next_id(), second_id = next_id();  // the first half is ".n", the second ".n+1"
      todo.push_front(make_part(std::move(second), std::move(second_id)));
      todo.push_front(make_part(std::move(first), std::move(first_id)));
      continue;
    }
    RetryDecision next = decide_retry(options.retry, part.tries, result, env.now() - first_try, rng);
    if (!again.empty()) {  // a part goes next: only those records, under an id of its own
      uint32_t tries = part.tries;
      part = make_part(std::move(again), next_id());
      part.tries = tries;  // the same retry budget
      part.resend = true;
    }
    if (!next.retry) {
      out.permanent = result.outcome == Outcome::Permanent;
      if (todo.size() == 1 || part.indices.empty()) return give_up(fmt::format("{}; {}", result.detail, next.reason));
      for (uint32_t i : part.indices)
        out.failed.push_back({i, fmt::format("{}; {}", result.detail, next.reason), said});
      todo.pop_front();
      continue;
    }
    if (std::string why = env.why_not(info.attempt + 1); !why.empty()) {
      out.cut_short = true;
      return give_up(fmt::format("{}; {}", result.detail, why));
    }
    diag::warning(fmt::format("{}: {}; retry {} {} in {}", describe_part(batch, part), result.detail, part.tries,
                              retries_left(options.retry), format_duration(next.delay)));
    metrics.retries.add();
    metrics.retrying.add(1);
    bool waited = env.wait(next.delay);
    metrics.retrying.add(-1);
    if (!waited) {
      out.cut_short = true;
      std::string why = env.why_not(info.attempt + 1);
      return give_up(fmt::format("{}; {}", result.detail, why.empty() ? "no retries while shutting down" : why));
    }
  }
  out.delivered = true;
  std::sort(out.failed.begin(), out.failed.end(),
            [](const RecordFailure& a, const RecordFailure& b) { return a.index < b.index; });
  return out;
}

}  // namespace batchpipe
