#include "commit/committer.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/diagnostics.h"
#include "input/input_reader.h"

namespace batchpipe {

Committer::Committer(CommitOptions options, std::optional<DeadLetter> dead_letter, Metrics& metrics,
                     StdoutWriter& out, Spend spend)
    : options_(std::move(options)),
      dead_letter_(std::move(dead_letter)),
      metrics_(metrics),
      out_(out),
      spend_(std::move(spend)) {}

void Committer::commit(Batch&& batch, BatchResult& result, RunState state) {
  if (out_.reader_gone()) {  // ending quietly, as cat would: what is left is not worth a word
    if (!result.delivered) lost_ += batch.records;
    spend_(std::move(batch), result.delivered);
    return;
  }
  // A part of a split batch cut short counts too: its records are not
  // dead-lettered, the batch (its delivered parts included) goes again.
  if ((!result.delivered || result.cut_short) && options_.resumable && state.shutting_down) {
    left_ += batch.records;
    metrics_.left_records.add(batch.records);
    const std::string& why =
        !result.reason.empty() || result.failed.empty() ? result.reason : result.failed.front().reason;
    if (!said_left_) {
      said_left_ = true;
      diag::warning(fmt::format("{}: {}; left for the next run ({}){}, with every batch after it",
                                describe_batch(batch), why, keeper(),
                                result.delivered ? ", the parts already delivered too" : ""));
    }
    spend_(std::move(batch), false);
    return;
  }
  bool settled = true;
  if (result.delivered) {
    uint64_t failed = result.failed.size();
    metrics_.delivered_batches.add();
    metrics_.delivered_records.add(batch.records - failed);
    metrics_.delivered_bytes.add(batch.body().size());
    metrics_.already_stored.add(result.already_stored);
    metrics_.resent_records.add(result.retried_records);
    print_answers(batch, result);
    if (result.output && !out_.broken() && !options_.answers) out_.copy_from(result.output.get());
    // Records that failed alone: with --checkpoint, unless saved, a later run
    // sends the batch again (at least once: its delivered records too).
    if (failed) settled = give_up_records(batch, result.failed);
  } else {
    settled = give_up_batch(batch, result, state);
  }
  spend_(std::move(batch), settled);
}

bool Committer::give_up_batch(const Batch& batch, const BatchResult& result, RunState state) {
  ++failed_batches_;
  metrics_.failed_batches.add();
  metrics_.failed_records.add(batch.records);
  std::string error;
  DeadLetter* file = keeper_file(result.permanent && !result.stops_run && !result.cut_short);
  bool saved = file && file->give_up(batch, result.reason, result.status, error);
  if (saved) {
    dead_lettered_ += batch.records;
    metrics_.dead_lettered.add(batch.records);
  } else if (resumes(batch)) {
    left_ += batch.records;  // the checkpoint stays before them: the next run reads them again
    metrics_.left_records.add(batch.records);
  } else {
    lost_ += batch.records;
  }
  // After the stop was said, batches never tried are summed up, not named one by one.
  if (said_stop_ && result.attempts == 0 && error.empty()) {
    ++untried_batches_;
    untried_records_ += batch.records;
    untried_lost_ = untried_lost_ || !resumes(batch);
  } else if (saved) {
    diag::error(fmt::format("{}: {}; written to {}", describe_batch(batch), result.reason, file->path()));
  } else {
    if (!error.empty()) diag::error(error);
    diag::error(fmt::format("{}: {}; {} record{} {}", describe_batch(batch), result.reason, batch.records,
                            batch.records == 1 ? "" : "s", not_saved(batch)));
  }
  if (result.stops_run && !said_stop_) {
    said_stop_ = true;
    diag::error(fmt::format("stopping: every batch would fail the same way; {}", result.fix));
  } else if (state.stopped && !said_stop_) {
    said_stop_ = true;
    diag::error("--on-error stop: delivering nothing more");
  }
  return saved;
}

void Committer::say_untried(bool last, bool idle) {
  if (untried_batches_ == said_untried_ || (!last && !idle)) return;
  TimePoint now = Clock::now();
  if (!last && now < next_untried_note_) return;
  next_untried_note_ = now + std::chrono::seconds(1);
  said_untried_ = untried_batches_;
  diag::error(fmt::format("{} more batch{} ({} record{}) not tried after the stop{}", untried_batches_,
                          untried_batches_ == 1 ? "" : "es", untried_records_, untried_records_ == 1 ? "" : "s",
                          dead_letter_    ? fmt::format("; written to {}", dead_letter_->path())
                          : untried_lost_ ? "; lost"
                                          : fmt::format("; left for the next run ({})", keeper())));
}

bool Committer::give_up_records(const Batch& batch, const std::vector<RecordFailure>& failed) {
  ++failed_batches_;  // the exit status says records were not delivered
  metrics_.rejected_records.add(failed.size());
  std::vector<uint32_t> indices;
  for (const RecordFailure& f : failed) indices.push_back(f.index);
  std::sort(indices.begin(), indices.end());
  std::string error;
  DeadLetter* file = keeper_file(true);  // records refused alone were refused for good: retryable ones went again
  bool saved = file && file->give_up(batch, failed, error);
  if (saved) {
    dead_lettered_ += failed.size();
    metrics_.dead_lettered.add(failed.size());
  } else if (resumes(batch)) {
    left_ += failed.size();  // the whole batch, in fact: the checkpoint stays before it
    metrics_.left_records.add(failed.size());
    if (!error.empty()) diag::error(error);
  } else {
    lost_ += failed.size();
    if (!error.empty()) diag::error(error);
  }
  // Runs of neighbours that failed for the same reason are named once.
  for (size_t i = 0, j; i < failed.size(); i = j) {
    for (j = i + 1; j < failed.size() && failed[j].index == failed[j - 1].index + 1 &&
                    failed[j].reason == failed[i].reason;
         ++j) {
    }
    std::string which = j - i == 1 ? fmt::format("record {}", failed[i].index + 1)
                                   : fmt::format("records {}-{}", failed[i].index + 1, failed[j - 1].index + 1);
    diag::line_problem(fmt::format("{}, {}: {}", describe_batch(batch), which, failed[i].reason));
  }
  diag::error(fmt::format("{}: {} record{} not delivered{}", describe_batch(batch), failed.size(),
                          failed.size() == 1 ? "" : "s",
                          saved             ? fmt::format("; written to {}", file->path())
                          : resumes(batch) ? fmt::format("; left for the next run, with the rest of the batch "
                                                          "({}; {})",
                                                          keeper(), line_range(batch))
                                            : fmt::format("; lost ({})", line_range(batch))));
  return saved;
}

void Committer::print_answers(const Batch& batch, const BatchResult& result) {
  if (!options_.answers || out_.broken()) return;
  std::string out;
  std::string_view answer = result.answer;
  for (size_t i = 0; i < result.answers.size(); ++i) {
    std::string_view element = answer.substr(result.answers[i].first, result.answers[i].second);
    if (options_.answers_with_input) fmt::format_to(std::back_inserter(out), "{{\"in\":{},\"out\":", batch.record(i));
    // One line per record: a newline inside a valid element can only be
    // whitespace between its tokens, and becomes a space.
    size_t start = out.size();
    out.append(element);
    std::replace_if(out.begin() + static_cast<long>(start), out.end(), [](char c) { return c == '\n' || c == '\r'; },
                    ' ');
    out.append(options_.answers_with_input ? "}\n" : "\n");
  }
  out_.write(out);
}

DeadLetter* Committer::keeper_file(bool refused_for_good) {
  if (dead_letter_) return &*dead_letter_;
  if (refused_ && refused_for_good) return &*refused_;
  return nullptr;
}

bool Committer::resumes(const Batch& batch) const {
  if (options_.spooled) return true;
  if (!options_.resumable || options_.inputs.empty()) return false;
  for (uint32_t i = batch.first.input; i <= batch.last.input; ++i)
    if (i >= options_.inputs.size() || options_.inputs[i] == "-") return false;
  return true;
}

std::string Committer::not_saved(const Batch& batch) const {
  return resumes(batch) ? fmt::format("left for the next run ({}; {})", keeper(), line_range(batch))
                        : fmt::format("lost ({})", line_range(batch));
}

std::string Committer::line_range(const Batch& batch) const {
  auto name = [&](uint32_t input) { return input_name(options_.inputs, input); };
  bool one_input = options_.inputs.size() == 1;
  auto lines = [](uint64_t first, uint64_t last) {
    return first == last ? fmt::format("line {}", first) : fmt::format("lines {}-{}", first, last);
  };
  if (batch.first.input == batch.last.input)
    return one_input ? fmt::format("input {}", lines(batch.first.line, batch.last.line))
                     : fmt::format("{} {}", name(batch.first.input), lines(batch.first.line, batch.last.line));
  return fmt::format("{} line {} to {} line {}", name(batch.first.input), batch.first.line,
                     name(batch.last.input), batch.last.line);
}

}  // namespace batchpipe
