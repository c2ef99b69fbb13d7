// The unit of input handed from the reader to the rest of the pipeline: a
// run of whole lines of one input, framed in place in a reusable buffer,
// with where those lines lie in their input and the messages that go with them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/byte_buffer.h"
#include "base/exit_status.h"
#include "input/file_identity.h"
#include "json/line_validator.h"

namespace batchpipe {

/// A line too long to hold, read through and dropped.
struct OversizedLine {
  uint64_t line = 0;
  uint64_t size = 0;  ///< without the blanks around it
};

/// A message about the input (an unreadable file, corrupt gzip data, a line
/// cut short), handed out with the block it belongs to, so that the loop
/// prints it in input order, among the messages about lines, and not at all
/// once --on-invalid fail has stopped the run before it.
struct InputNote {
  bool error = true;  ///< an error, else a warning (-q hides it)
  std::string text;
  bool loud = false;  ///< a warning said even with -q (a resume that skips or repeats lines)
};

/// A run of whole lines from one input. Spans point into `buffer`, so a
/// block is reused, never copied.
struct InputBlock {
  ByteBuffer buffer;  ///< grows for a giant line without holding it twice (see byte_buffer.h)
  std::vector<LineSpan> lines;           ///< trimmed, non-blank; LineSpan::line counts from first_line
  std::vector<OversizedLine> oversized;  ///< came before every line in `lines`
  uint32_t input = 0;                    ///< index of the input these lines came from
  uint64_t first_line = 0;               ///< line number (1-based, in its input) of LineSpan::line 0
  uint64_t line_count = 0;               ///< lines this block covers, blank ones included
  uint64_t input_bytes = 0;              ///< raw bytes of those lines
  /// Where buffer[0] lies in the input (decompressed, for gzip input), and
  /// the blanks fill() dropped from inside the block's first line (a line
  /// that filled the buffer): every byte after buffer[0] lies `skew` further.
  uint64_t offset = 0;
  uint64_t skew = 0;
  uint32_t framed = 0;                   ///< bytes of `buffer` the lines were framed from
  uint64_t end_line = 0;                 ///< lines of the input before end_offset()
  FileIdentity identity;                 ///< of the file these lines came from (see file_identity.h)
  bool begins = false;                   ///< the first block of a file read from `offset` (at start-up,
                                         ///< after rotation or truncation): positions before it are void
  std::vector<InputNote> notes_before;   ///< about what came before these lines (inputs that would not open)
  std::vector<InputNote> notes_after;    ///< about what came after them (read errors, a line cut short)
  ExitStatus status_before = ExitStatus::Success;  ///< what notes_before mean for the exit status
  ExitStatus status_after = ExitStatus::Success;   ///< and notes_after
  /// Set by a validation thread (--threads > 1): the lines of `lines` that
  /// are not JSON texts, in order. Without it the loop validates the block.
  bool validated = false;
  std::vector<LineProblem> problems;

  std::string_view text(const LineSpan& span) const { return {buffer.data() + span.offset, span.size}; }
  /// Where the line of `span` starts in its input, before any blanks or BOM.
  uint64_t line_offset(const LineSpan& span) const;
  /// Just past the newline that ends the line of `span` (or its last byte).
  uint64_t line_end(const LineSpan& span) const;
  /// Past everything this block covers: where the next block of its input starts.
  uint64_t end_offset() const { return offset + framed + skew; }
};

}  // namespace batchpipe
