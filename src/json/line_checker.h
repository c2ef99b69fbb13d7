// Judging framed lines: which become records, and what happens to the rest
// under --on-invalid. Runs on the event loop's thread, beside the batcher;
// it validates a block itself unless a validation thread already has.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "cli/config.h"
#include "base/exit_status.h"
#include "cli/record_limit.h"
#include "input/input_reader.h"
#include "json/line_validator.h"
#include "json/shape_hint.h"

namespace batchpipe {

class LineChecker {
 public:
  /// `text` (--input text): every line is a record, quoted as a JSON string.
  LineChecker(InvalidMode mode, RecordLimit limit, std::vector<std::string> inputs, bool text = false);

  /// Calls `emit(record, line, span)` for each record of `block`, in order: valid
  /// lines byte-for-byte, invalid ones quoted under --on-invalid quote.
  /// Reports the lines it rejects. Returns false, after emitting the records
  /// before it, at a line that stops the run (--on-invalid fail).
  template <class Emit>
  bool check(const InputBlock& block, Emit&& emit);

  /// Success, InvalidSkipped or StoppedAtInvalid.
  ExitStatus status() const { return status_; }
  uint64_t rejected() const { return rejected_; }
  /// Lines whose invalid UTF-8 was replaced with U+FFFD when quoted.
  uint64_t replaced() const { return replaced_; }

 private:
  /// Says once per input when its lines look like JSON of another shape.
  void hint(const InputBlock& block, std::string_view text, bool invalid);
  /// Reports a line that is not delivered; returns false if the run stops there.
  bool reject(const InputBlock& block, uint64_t line, std::string_view reason);
  /// "record of 2010 bytes exceeds --max-bytes 1024 (1 KiB)": names the limit the user set.
  std::string oversize(uint64_t size, std::string_view how = "") const;
  /// The quoted form of an invalid line, or empty if it is rejected after all.
  const std::string& quote(const InputBlock& block, uint64_t line, std::string_view text);

  InvalidMode mode_;
  bool text_;
  ShapeHint hint_;
  RecordLimit limit_;
  std::vector<std::string> inputs_;
  LineValidator validator_;
  std::vector<LineProblem> problems_;
  std::string quoted_;
  ExitStatus status_ = ExitStatus::Success;
  uint64_t rejected_ = 0;
  uint64_t replaced_ = 0;
  bool hint_done_ = false;  ///< the current input has nothing more to hint at
  uint32_t hint_input_ = UINT32_MAX;
};

template <class Emit>
bool LineChecker::check(const InputBlock& block, Emit&& emit) {
  for (const OversizedLine& o : block.oversized)
    if (!reject(block, o.line, oversize(o.size))) return false;
  if (text_) {
    for (const LineSpan& span : block.lines) {
      uint64_t line = block.first_line + span.line;
      const std::string& quoted = quote(block, line, block.text(span));
      if (!quoted.empty()) emit(std::string_view(quoted), line, span);
      else if (mode_ == InvalidMode::Fail) return false;
    }
    return true;
  }
  const std::vector<LineProblem>* problems = &block.problems;  // found by a validation thread
  if (!block.validated) {
    problems_.clear();
    validator_.validate(block.buffer.data(), block.buffer.size() - kValidatorPadding, block.lines, problems_);
    problems = &problems_;
  }
  auto problem = problems->begin();
  for (size_t i = 0; i < block.lines.size(); ++i) {
    const LineSpan& span = block.lines[i];
    uint64_t line = block.first_line + span.line;
    std::string_view text = block.text(span);
    bool invalid = problem != problems->end() && problem->index == i;
    bool go_on = true;
    if (text.size() > limit_.record) {
      go_on = reject(block, line, oversize(text.size()));
    } else if (!invalid) {
      emit(text, line, span);
    } else if (mode_ == InvalidMode::Quote) {
      const std::string& quoted = quote(block, line, text);
      if (!quoted.empty()) emit(std::string_view(quoted), line, span);
    } else {
      go_on = reject(block, line, problem->reason);
    }
    if (invalid || !hint_done_) hint(block, text, invalid);  // after the line's own message
    if (!go_on) return false;
    if (invalid) ++problem;
  }
  return true;
}

}  // namespace batchpipe
