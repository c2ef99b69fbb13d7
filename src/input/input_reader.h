// The input coordinator: reads the inputs in order (with --follow, every
// file as it grows, taking turns) and hands out their lines a block at a
// time. Which bytes make a line is the LineFramer's job (line_framer.h),
// where the bytes come from a Source's (source.h), what news a followed file
// has the Follower's (follower.h); this file decides which input to read
// next, from where (a checkpoint's resume point, a rotated or truncated
// file), and which messages go with which block. Judging the lines is the
// LineChecker's job, on another thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/byte_buffer.h"
#include "cli/config.h"
#include "base/exit_status.h"
#include "input/input_block.h"
#include "input/resume.h"
#include "json/line_validator.h"

namespace batchpipe {

class Follower;
class ReadRoom;

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
  /// `room`, if given, is asked before a block grows for a long line and
  /// told what the reader holds outside the blocks it hands out (see
  /// read_room.h); its stop() must come with the stop latch.
  InputReader(ReaderOptions options, int stop_fd, ReadRoom* room = nullptr);
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

  void close_current();
  /// Reads into the block (through the current input's framer) until whole
  /// lines are there and nothing more is ready, or the input ends.
  Fill fill(InputBlock& block);
  /// Reads what comes next from the current input into `dst`, decompressing
  /// gzip input: bytes read, 0 at its end, kReadAgain if nothing is ready
  /// yet, kReadError after reporting an error.
  ssize_t read_input(char* dst, size_t cap, uint32_t input);
  static constexpr ssize_t kReadAgain = -1, kReadError = -2;
  /// Keeps a message for the block being filled (see InputNote).
  void note(bool error, std::string text, ExitStatus status = ExitStatus::Success);

  /// One input's reading state (see input_reader.cc).
  struct Cursor;

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
  ReadRoom* room_;
  size_t next_input_ = 0;
  std::vector<Cursor> cursors_;
  Cursor* cur_ = nullptr;
  size_t turn_ = 0;           ///< --follow: where pick() looks first, so files take turns
  std::unique_ptr<Follower> follower_;  ///< --follow, once every file is opened and watched
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
