// Input framing: reads the inputs in order and splits them into trimmed,
// non-blank lines, handed out a block at a time. Judging the lines is the
// LineChecker's job, on the other thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "exit_status.h"
#include "input/gzip_decoder.h"
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
};

/// A run of whole lines from one input. Spans point into `buffer`, so a
/// block is reused, never copied.
struct InputBlock {
  std::vector<char> buffer;
  std::vector<LineSpan> lines;           ///< trimmed, non-blank; LineSpan::line counts from first_line
  std::vector<OversizedLine> oversized;  ///< came before every line in `lines`
  uint32_t input = 0;                    ///< index of the input these lines came from
  uint64_t first_line = 0;               ///< line number (1-based, in its input) of LineSpan::line 0
  uint64_t line_count = 0;               ///< lines this block covers, blank ones included
  uint64_t input_bytes = 0;              ///< raw bytes of those lines
  std::vector<InputNote> notes_before;   ///< about what came before these lines (inputs that would not open)
  std::vector<InputNote> notes_after;    ///< about what came after them (read errors, a line cut short)
  ExitStatus status_before = ExitStatus::Success;  ///< what notes_before mean for the exit status
  ExitStatus status_after = ExitStatus::Success;   ///< and notes_after
  /// Set by a validation thread (--threads > 1): the lines of `lines` that
  /// are not JSON texts, in order. Without it the loop validates the block.
  bool validated = false;
  std::vector<LineProblem> problems;

  std::string_view text(const LineSpan& span) const { return {buffer.data() + span.offset, span.size}; }
};

struct ReaderOptions {
  std::vector<std::string> inputs;  ///< "-" is stdin
  uint64_t max_record = 0;          ///< longer lines are not held: read through and reported
  size_t block_size = 1 << 20;      ///< bytes read per block, lines permitting
  bool text = false;                ///< --input text: lines are kept whole (only the line ending
                                    ///< goes), empty ones included
};

/// Lines framed per block at most, so that blocks of tiny records stay small.
inline constexpr size_t kMaxLinesPerBlock = 1 << 16;

class InputReader {
 public:
  /// Reading stops soon after `stop_fd` becomes readable: whole lines already
  /// read are still handed out; a partial line is dropped (see unfinished()).
  InputReader(ReaderOptions options, int stop_fd);
  ~InputReader();
  InputReader(const InputReader&) = delete;
  InputReader& operator=(const InputReader&) = delete;

  /// Refills `block` (its buffer is reused) with the next lines, waiting for
  /// input as needed. Returns false once there is nothing more to read.
  bool next(InputBlock& block);

  /// InputUnreadable if an input could not be opened or read (SystemError
  /// for want of descriptors); also in each block's status, with its notes.
  ExitStatus status() const { return status_; }

  /// After a stop: which line was cut short, as a message; empty if none was.
  const std::string& unfinished() const { return unfinished_; }

 private:
  enum class Fill { Lines, EndOfFile, Stopped, Error };

  bool open_next();
  void close_current();
  Fill fill(InputBlock& block, size_t& used);
  /// Frames whole lines from the start of the buffer up to `end` (just past
  /// a newline, or the end of the input), at most `max_lines` of them.
  /// Returns where framing stopped.
  size_t frame(InputBlock& block, size_t end, size_t max_lines);
  void reject(InputBlock& block, uint64_t line, uint64_t size);
  /// Reads what comes next from the current input into `dst`, decompressing
  /// gzip input: bytes read, 0 at its end, kReadAgain if nothing is ready
  /// yet, kReadError after reporting an error.
  ssize_t read_input(char* dst, size_t cap, uint32_t input);
  static constexpr ssize_t kReadAgain = -1, kReadError = -2;
  /// Keeps a message for the block being filled (see InputNote).
  void note(bool error, std::string text, ExitStatus status = ExitStatus::Success);

  ReaderOptions options_;
  int stop_fd_;
  size_t next_input_ = 0;
  int fd_ = -1;
  bool first_read_ = true;            ///< nothing read yet from the current input
  std::unique_ptr<GzipDecoder> gzip_; ///< the current input is gzip
  uint64_t line_ = 0;         ///< lines framed so far in the current input
  std::string carry_;         ///< a partial line (or unframed lines) waiting for the next block
  bool discarding_ = false;   ///< inside a line too long to keep
  uint64_t discard_line_ = 0;
  uint64_t discard_size_ = 0;
  bool done_ = false;
  std::string unfinished_;
  ExitStatus status_ = ExitStatus::Success;
  std::vector<InputNote> notes_;            ///< not yet handed out with a block
  ExitStatus notes_status_ = ExitStatus::Success;
};

/// "line 12" when reading only stdin, else "FILE: line 12".
std::string describe_line(const std::vector<std::string>& inputs, uint32_t input, uint64_t line);

/// The input's name for messages: its path, or "stdin" for "-".
std::string input_name(const std::vector<std::string>& inputs, uint32_t input);

}  // namespace batchpipe
