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
#include "input/rotate_wait.h"
#include "json/line_validator.h"

namespace batchpipe {

class Follower;
class ReadRoom;
struct FileNews;
struct FoundFile;

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
  /// --rotate-wait (--follow): how long a renamed or deleted file must be
  /// quiet before it is left (see rotate_wait.h).
  Duration rotate_wait = kDefaultRotateWait;
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
  /// A warning said even with -q: a resume that skips or repeats lines.
  void note_loud(std::string text);

  /// One input's reading state (see input_reader.cc).
  struct Cursor;

  /// At the first open of `c` (its name's file open, or missing): where the
  /// checkpoint's position `saved` is now, and what to read first (the file
  /// itself, renamed by a rotation, or its copy beside it after a
  /// copytruncate); says why when it cannot resume, once even with -q.
  /// True if `c` has something to read.
  bool resume(Cursor& c, const ResumePoint& saved);
  /// Reads the copy `copy` of the file `identity` from `offset` on, then
  /// whatever comes after it (`c`'s queued file, then the name).
  void read_copy(Cursor& c, FoundFile& copy, const FileIdentity& identity, uint64_t offset, uint64_t line);
  /// Moves `c` to `offset` (`line` lines before it) of the file it reads.
  void seek(Cursor& c, uint64_t offset, uint64_t line);
  /// `c` is at the end of a file that is not its name's (any more): reads
  /// what is queued, else opens the name from its start.
  void after_old_file(Cursor& c);
  /// --follow: `c`'s file is kept after a rotation: the file its name leads
  /// to now is held (queued) unless it already is, so that a file rotated
  /// again within the wait is read too.
  void hold_name(Cursor& c);
  /// --follow: `c`'s file was found shorter than where reading got, or
  /// rewritten: reads the rest from its copy, if there is one, then it again
  /// from its start.
  void truncated(Cursor& c, const FileNews& news);
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
  std::optional<TimePoint> look_again_;  ///< --follow: when an old file may be left without news
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
