// Input framing: reads the inputs in order and splits them into trimmed,
// non-blank lines, handed out a block at a time. Judging the lines is the
// LineChecker's job, on the other thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/byte_buffer.h"
#include "cli/config.h"
#include "base/exit_status.h"
#include "input/file_identity.h"
#include "input/gzip_decoder.h"
#include "input/resume.h"
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

struct ReaderOptions {
  std::vector<std::string> inputs;  ///< "-" is stdin
  uint64_t max_record = 0;          ///< longer lines are not held: read through and reported
  size_t block_size = 1 << 20;      ///< bytes read per block, lines permitting
  bool text = false;                ///< --input text: lines are kept whole (only the line ending
                                    ///< goes), empty ones included
  /// --follow: after the end of a regular file, wait for more as tail -F
  /// does (rotation, truncation, a file that appears later); other inputs
  /// (stdin, pipes, gzip files) are read to their end as usual.
  bool follow = false;
  /// Per input (by index; missing or empty: none; not empty at all when a
  /// checkpoint is in use, which warns about inputs it cannot resume): where a checkpoint says
  /// reading may start again. Used only if the file is still the same (see
  /// decide_resume); otherwise the input is read from its start, with a warning.
  std::vector<std::optional<ResumePoint>> resume;
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
  /// CaughtUp (--follow): at the end of a file that may grow; whole lines
  /// are framed, a partial one waits.
  enum class Fill { Lines, CaughtUp, EndOfFile, Stopped, Error };

  bool open_next();
  /// A regular file was just opened: identifies it and moves to where its
  /// checkpoint says reading starts again.
  void start_file(uint32_t input);

  /// Drops the first skip_ bytes of decompressed gzip data (a resume).
  ssize_t skip_decoded(char* dst, ssize_t made);
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

  /// One input's reading state. Without --follow one input is read at a
  /// time, in order; with it every file stays open and is read as it grows.
  struct Cursor {
    uint32_t input = 0;
    int fd = -1;
    bool first_read = true;             ///< nothing read yet from this input
    std::unique_ptr<GzipDecoder> gzip;  ///< the input is gzip
    uint64_t line = 0;         ///< lines framed so far
    uint64_t consumed = 0;     ///< bytes framed so far: where carry starts
    uint64_t skip = 0;         ///< decompressed bytes still to drop before reading (gzip resume)
    FileIdentity identity;
    std::string carry;         ///< a partial line (or unframed lines) waiting for the next block
    bool discarding = false;   ///< inside a line too long to keep
    uint64_t discard_line = 0;
    uint64_t discard_size = 0;
    bool begins = true;        ///< no block handed out yet since the file was (re)started
    // --follow
    bool caught_up = false;    ///< read to its end; waits for news
    bool finished = false;     ///< not followed any further (stdin, a pipe, gzip, an error)
    bool rotated = false;      ///< the name points to another file: finish this one, then open that
    bool missing = false;      ///< the name named no file when last looked at
    bool resumable = true;     ///< the checkpoint's position applies to the next open (the first)
  };

  /// At the first open of `c`: if the checkpoint's file for it now has
  /// another name in the same directory (rotated while no run read it),
  /// reads that first. True if `c` now reads it.
  bool open_moved_away(Cursor& c);
  /// Opens `c`'s file by name: false if it cannot be (said, unless only
  /// missing while followed).
  bool open_cursor(Cursor& c);
  /// --follow: the next input to read from, or null when all are caught up.
  Cursor* pick();
  /// --follow: looks whether a caught-up file was rotated, truncated or
  /// created; true if there is something to read now.
  bool check(Cursor& c);
  /// --follow: waits for news of any file (inotify, or a slow stat poll);
  /// false if the stop latch was raised.
  bool wait_for_change();
  void start_following();

  ReaderOptions options_;
  int stop_fd_;
  size_t next_input_ = 0;
  std::vector<Cursor> cursors_;
  Cursor* cur_ = nullptr;
  size_t turn_ = 0;           ///< --follow: where pick() looks first, so files take turns
  bool following_ = false;    ///< --follow: every file opened, watches set
  int inotify_fd_ = -1;
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
