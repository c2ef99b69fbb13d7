// Input framing: reads the inputs in order, splits them into lines, trims
// them, validates them and hands out blocks of deliverable records. Invalid
// lines are reported here, as --on-invalid says.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"
#include "exit_status.h"
#include "line_validator.h"

namespace batchpipe {

struct Record {
  std::string_view text;  ///< trimmed, byte-for-byte (or the quoted form of an invalid line)
  uint64_t line = 0;      ///< line number in its input, 1-based
};

/// A run of whole lines from one input and the records among them. Records
/// point into `buffer` and `quoted`, so a block is moved, never copied.
struct InputBlock {
  std::vector<char> buffer;
  std::vector<Record> records;
  std::deque<std::string> quoted;  ///< --on-invalid quote: the records made from invalid lines
  uint32_t input = 0;              ///< index of the input these lines came from
  uint64_t input_bytes = 0;        ///< raw bytes of the lines this block covers
  uint64_t lines = 0;              ///< lines this block covers, blank and invalid included
  uint64_t invalid = 0;            ///< lines rejected (skipped or stopped at)
};

struct ReaderOptions {
  std::vector<std::string> inputs;  ///< "-" is stdin
  uint64_t max_record = 0;          ///< larger records are rejected
  InvalidMode on_invalid = InvalidMode::Skip;
  size_t block_size = 1 << 20;      ///< bytes read per block, lines permitting
};

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

  /// InvalidSkipped, StoppedAtInvalid and/or InputUnreadable, combined.
  ExitStatus status() const { return status_; }

  /// After a stop: which line was cut short, as a message; empty if none was.
  const std::string& unfinished() const { return unfinished_; }

 private:
  enum class Fill { Lines, EndOfFile, Stopped, Error };

  bool open_next();
  void close_current();
  Fill fill(InputBlock& block, size_t& used);
  /// Frames [0, end) of the buffer into records; `end` is just past a newline
  /// or the end of the file.
  void frame(InputBlock& block, size_t end);
  void reject(InputBlock& block, uint64_t line, std::string_view reason);
  void add_quoted(InputBlock& block, std::string_view text, uint64_t line);
  std::string where(uint64_t line) const;

  ReaderOptions options_;
  int stop_fd_;
  LineValidator validator_;
  size_t next_input_ = 0;
  int fd_ = -1;
  std::string name_;          ///< for messages; empty when reading only stdin
  std::string display_name_;  ///< for errors: the path, or "stdin"
  uint64_t line_ = 0;         ///< lines framed so far in the current input
  std::string carry_;         ///< a partial line waiting for the rest
  bool discarding_ = false;   ///< inside a line too long to keep
  uint64_t discard_line_ = 0;
  uint64_t discard_size_ = 0;
  bool done_ = false;
  std::string unfinished_;
  ExitStatus status_ = ExitStatus::Success;
  std::vector<LineSpan> spans_;
  std::vector<uint64_t> span_lines_;
  std::vector<LineProblem> problems_;
};

}  // namespace batchpipe
