#include "json/line_checker.h"

#include <iterator>

#include <fmt/format.h>

#include "base/diagnostics.h"
#include "json/json_quote.h"

namespace batchpipe {
namespace {

/// " (8 MiB)" for a whole number of KiB, MiB or GiB; else nothing.
std::string in_units(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes == 0 || bytes % 1024 != 0) return "";
  size_t unit = 0;
  bytes /= 1024;
  while (bytes % 1024 == 0 && unit + 1 < std::size(kUnits)) {
    bytes /= 1024;
    ++unit;
  }
  return fmt::format(" ({} {})", bytes, kUnits[unit]);
}

}  // namespace

LineChecker::LineChecker(InvalidMode mode, RecordLimit limit, std::vector<std::string> inputs, bool text)
    : mode_(mode), text_(text), limit_(std::move(limit)), inputs_(std::move(inputs)) {}

void LineChecker::hint(const InputBlock& block, std::string_view text, bool invalid) {
  if (block.input != hint_input_) {
    hint_input_ = block.input;
    hint_done_ = false;
  }
  if (auto h = hint_.see(block.input, input_name(inputs_, block.input), text, invalid)) diag::warning(*h);
  if (!invalid) hint_done_ = true;  // a valid line: this input is NDJSON after all
}

bool LineChecker::reject(const InputBlock& block, uint64_t line, std::string_view reason) {
  ++rejected_;
  std::string message = fmt::format("{}: {}", describe_line(inputs_, block.input, line), reason);
  if (mode_ == InvalidMode::Fail) {
    diag::error(message);
    status_ = combine(status_, ExitStatus::StoppedAtInvalid);
    return false;
  }
  diag::line_problem(message);
  status_ = combine(status_, ExitStatus::InvalidSkipped);
  return true;
}

std::string LineChecker::oversize(uint64_t size, std::string_view how) const {
  uint64_t limit = limit_.max_bytes;
  return fmt::format("record of {} bytes{} exceeds --max-bytes {}{}{}", size, how, limit, in_units(limit),
                     size <= limit ? " with " + limit_.frame_words : "");
}

const std::string& LineChecker::quote(const InputBlock& block, uint64_t line, std::string_view text) {
  quoted_.clear();
  size_t replaced = append_json_quoted(text, quoted_);
  if (quoted_.size() > limit_.record) {
    reject(block, line, oversize(quoted_.size(), " once quoted"));
    quoted_.clear();
  } else if (replaced) {
    ++replaced_;
    diag::line_problem(fmt::format("{}: invalid UTF-8 replaced with U+FFFD", describe_line(inputs_, block.input, line)));
  }
  return quoted_;
}

}  // namespace batchpipe
