#include "input/input_reader.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/diagnostics.h"
#include "base/std_fds.h"
#include "input/fd_source.h"
#include "input/follower.h"
#include "input/gzip_source.h"
#include "input/line_framer.h"
#include "input/read_room.h"
#include "input/rotated_siblings.h"

namespace batchpipe {

/// One input's reading state. Without --follow one input is read at a
/// time, in order; with it every file stays open and is read as it grows.
struct InputReader::Cursor {
  explicit Cursor(const ReaderOptions& o, uint32_t i) : input(i), framer(o.max_record, o.text) {}
  uint32_t input = 0;
  std::unique_ptr<Source> source;     ///< null while not open
  int fd() const { return source ? source->fd() : -1; }
  bool first_read = true;             ///< nothing read yet from this input: gzip magic is looked for
  bool gzip = false;                  ///< the source is a GzipSource
  LineFramer framer;         ///< this input's lines, and its position
  uint64_t skip = 0;         ///< decompressed bytes still to drop before reading (gzip resume)
  FileIdentity identity;
  bool begins = true;        ///< no block handed out yet since the file was (re)started
  bool resumable = true;     ///< the checkpoint's position applies to the next open (the first)
  /// Not the file the name leads to (renamed away, deleted, or a copy): after
  /// it, `queued`, then the name from its start.
  bool rotated = false;
  bool stand_in = false;     ///< a copy read in place of `identity`'s file (copytruncate): same bytes, offsets
  /// Read from their starts after this file, in order, before the name:
  /// the files the name led to while this one was kept (see hold_name()).
  std::deque<std::unique_ptr<Source>> queued;
  // --follow
  bool caught_up = false;    ///< read to its end; waits for news
  bool finished = false;     ///< not followed any further (stdin, a pipe, gzip, an error)
  bool leaving = false;      ///< read it to its end and close it (see rotate_wait.h)
  bool missing = false;      ///< the name named no file when last looked at
  bool deleted = false;      ///< its last name is gone
  TimePoint deleted_since{};
  uint64_t seen_size = 0;    ///< its size when last looked at
  TimePoint quiet_since{};   ///< when that size was first seen

  /// A new file (or a copy standing in for one) is read from here on.
  void reset_file_state() {
    skip = 0;
    first_read = true;
    gzip = false;
    begins = true;
    caught_up = leaving = deleted = stand_in = false;
    seen_size = 0;
    quiet_since = Clock::now();
  }
};

InputReader::InputReader(ReaderOptions options, int stop_fd, ReadRoom* room)
    : options_(std::move(options)), stop_fd_(stop_fd), room_(room) {
  cursors_.reserve(options_.inputs.size());  // never reallocated: cur_ points into it
  for (size_t i = 0; i < options_.inputs.size(); ++i) cursors_.emplace_back(options_, static_cast<uint32_t>(i));
}

InputReader::~InputReader() {
  for (Cursor& c : cursors_) {
    cur_ = &c;
    close_current();
  }
}

bool InputReader::open_cursor(Cursor& c) {
  const std::string& path = options_.inputs[c.input];
  cur_ = &c;
  c.framer.restart();
  c.reset_file_state();
  c.identity = FileIdentity{};
  c.rotated = false;
  c.queued.clear();
  if (path == "-" && std_fds::was_closed(STDIN_FILENO)) {
    // Started with stdin closed: /dev/null stands in for it, but reading
    // that would pass an unreadable input off as an empty one.
    note(true, fmt::format("stdin: {}", std::strerror(EBADF)), ExitStatus::InputUnreadable);
    c.finished = true;
    return false;
  }
  c.source = FdSource::open(path);
  if (path == "-") return true;  // nothing to identify or resume
  int open_error = errno;
  const ResumePoint* saved = c.resumable && c.input < options_.resume.size() && options_.resume[c.input]
                                 ? &*options_.resume[c.input]
                                 : nullptr;
  bool checkpointed = c.resumable && !options_.resume.empty();  // --checkpoint in use, first open
  if (c.source) {
    c.resumable = false;
    c.identity = identify(c.fd());
    if (checkpointed && !c.identity.regular)
      note(false, fmt::format("{}: not a regular file: --checkpoint cannot resume it; what it sends is read once", path));
    if (saved && c.identity.regular) resume(c, *saved);
    c.missing = false;
    return true;
  }
  if (open_error == ENOENT && saved && resume(c, *saved)) {  // moved away, no new file yet
    c.resumable = false;
    c.missing = false;
    return true;
  }
  errno = open_error;
  if (options_.follow && errno == ENOENT) {  // it may appear later
    if (!c.missing) note(false, fmt::format("{}: {}; waiting for it to appear (--follow)", path, std::strerror(errno)));
    c.missing = true;
    return false;
  }
  // Out of descriptors is a resource problem, not a bad input (exit 7).
  bool resources = errno == EMFILE || errno == ENFILE || errno == ENOMEM;
  note(true, fmt::format("{}: {}", path, std::strerror(errno)),
       resources ? ExitStatus::SystemError : ExitStatus::InputUnreadable);
  c.finished = true;
  return false;
}

bool InputReader::open_next() {
  while (next_input_ < cursors_.size())
    if (open_cursor(cursors_[next_input_++])) return true;
  return false;
}

namespace {

/// The smallest block read near the budget's end: smaller reads would cost
/// more in system calls than they bring.
constexpr size_t kLeastRead = 64 << 10;

/// The facts decide_resume needs about the open file `fd`.
FileNow facts_of(int fd, const FileIdentity& identity, const ResumePoint& saved) {
  FileNow now;
  now.identity = identity;
  struct stat st {};
  if (::fstat(fd, &st) == 0) now.size = static_cast<uint64_t>(st.st_size);
  char magic[2];
  now.gzip = ::pread(fd, magic, 2, 0) == 2 && looks_gzipped(magic, 2);
  if (saved.identity.fingerprint_bytes <= kFingerprintBytes)
    now.saved_prefix_print = fingerprint_prefix(fd, saved.identity.fingerprint_bytes);
  return now;
}

/// When the open file `fd` was last written, on the steady clock (now, if
/// its modification time is in the future).
TimePoint last_write(int fd) {
  struct stat st {};
  TimePoint now = Clock::now();
  if (::fstat(fd, &st) != 0) return now;
  auto mtime = std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
  auto ago = std::chrono::system_clock::now() - mtime;
  return ago > decltype(ago)::zero() ? now - std::chrono::duration_cast<Clock::duration>(ago) : now;
}

/// What is lost when the rest of the checkpoint's file is nowhere to be found.
std::string skipped(const ResumePoint& saved) {
  return fmt::format("what followed byte {} (line {}) of the file the checkpoint saw is skipped: no file beside it "
                     "starts with its first {} bytes and holds {} bytes (its size then is not known)",
                     saved.offset, saved.line, saved.identity.fingerprint_bytes, saved.offset);
}

}  // namespace

bool InputReader::resume(Cursor& c, const ResumePoint& saved) {
  const std::string& path = options_.inputs[c.input];
  if (c.source && saved.identity.same_file(c.identity)) {
    ResumeDecision d = decide_resume(path, saved, facts_of(c.fd(), c.identity, saved));
    if (d.warning.empty()) {
      seek(c, d.offset, d.line);
      return true;
    }
    // Truncated or rewritten in place while no run read it (copytruncate):
    // its copy beside it holds the rest.
    FoundFile copy = find_copy(path, saved.identity, saved.offset);
    if (copy.fd >= 0) {
      note(false, fmt::format("{}: cut short since the checkpoint (copytruncate?): reading the rest from its copy {} "
                              "first, from byte {}",
                              path, copy.path, saved.offset));
      c.queued.clear();
      read_copy(c, copy, saved.identity, saved.offset, saved.line);
      return true;
    }
    note_loud(fmt::format("{}; {}", d.warning, skipped(saved)));
    return true;
  }
  // Another file under the name, or none: the checkpoint's file may have
  // been renamed by a rotation while no run read it.
  FoundFile moved = find_moved(path, saved.identity);
  if (moved.fd >= 0 && moved.same_start) {
    c.source = std::make_unique<FdSource>(moved.fd);
    c.identity = identify(c.fd());
    c.rotated = true;  // then the files rotated after it, then the one the name leads to, from its start
    note(false, fmt::format("{}: rotated since the checkpoint: reading the rest of {} first", path, moved.path));
    c.queued.clear();
    for (FoundFile& newer : find_newer(path, moved.fd)) {
      note(false, fmt::format("{}: then {}, rotated after it", path, newer.path));
      c.queued.push_back(std::make_unique<FdSource>(newer.fd));
    }
    ResumeDecision d = decide_resume(moved.path, saved, facts_of(c.fd(), c.identity, saved));
    if (!d.warning.empty()) note_loud(std::move(d.warning));
    seek(c, d.offset, d.line);
    return true;
  }
  // Truncated (or copied and truncated), then rotated: the rest is in the
  // copy, and what was written after the truncation in the renamed file.
  FoundFile copy = find_copy(path, saved.identity, saved.offset);
  std::unique_ptr<Source> renamed = moved.fd >= 0 ? std::make_unique<FdSource>(moved.fd) : nullptr;
  if (renamed)
    note_loud(fmt::format("{}: {} is the file the checkpoint saw, renamed, but its first bytes changed (truncated, "
                          "then rotated): reading it from its start, so lines of it may be sent again",
                          path, moved.path));
  if (copy.fd >= 0) {
    note(false, fmt::format("{}: cut short and rotated since the checkpoint: reading the rest from its copy {} first, "
                            "from byte {}",
                            path, copy.path, saved.offset));
    c.queued.clear();
    if (renamed) c.queued.push_back(std::move(renamed));
    read_copy(c, copy, saved.identity, saved.offset, saved.line);
    return true;
  }
  if (renamed) {
    note_loud(fmt::format("{}: {}", path, skipped(saved)));
    c.source = std::move(renamed);
    c.identity = identify(c.fd());
    c.rotated = true;
    return true;
  }
  if (!c.source) return false;
  ResumeDecision d = decide_resume(path, saved, facts_of(c.fd(), c.identity, saved));
  note_loud(fmt::format("{}; {}", d.warning, skipped(saved)));
  return true;
}

void InputReader::read_copy(Cursor& c, FoundFile& copy, const FileIdentity& identity, uint64_t offset, uint64_t line) {
  c.source = std::make_unique<FdSource>(copy.fd);
  copy.fd = -1;
  c.reset_file_state();
  c.identity = identity;  // positions go on counting in the file the copy was made of
  c.stand_in = c.rotated = c.leaving = true;  // nobody writes a copy
  c.framer.restart(offset, line);
  if (copy.gzip) {
    c.skip = offset;  // decompressed from the start, the first `offset` bytes dropped
  } else {
    (void)::lseek(c.fd(), static_cast<off_t>(offset), SEEK_SET);
    c.first_read = false;
  }
}

void InputReader::seek(Cursor& c, uint64_t offset, uint64_t line) {
  if (offset == 0) return;
  char magic[2];
  if (::pread(c.fd(), magic, 2, 0) == 2 && looks_gzipped(magic, 2)) {
    c.skip = offset;  // decompressed from the start, the first `offset` bytes dropped
  } else {
    if (::lseek(c.fd(), static_cast<off_t>(offset), SEEK_SET) < 0) return;  // read from the start then
    c.first_read = false;  // what comes first is no longer the file's start: no gzip magic to look for
  }
  c.framer.restart(offset, line);
}

void InputReader::after_old_file(Cursor& c) {
  if (c.queued.empty()) {
    open_cursor(c);  // the name's file, from its start
    return;
  }
  c.source = std::move(c.queued.front());
  c.queued.pop_front();
  c.framer.restart();
  c.reset_file_state();
  c.identity = identify(c.fd());
  struct stat st {};
  if (::fstat(c.fd(), &st) == 0) c.seen_size = static_cast<uint64_t>(st.st_size);
  c.quiet_since = last_write(c.fd());  // quiet since before it was reached counts
  // Not the name's file (any more): the rotation wait applies, then the name.
  struct stat by_name {};
  c.rotated = !(::stat(options_.inputs[c.input].c_str(), &by_name) == 0 &&
                static_cast<uint64_t>(by_name.st_dev) == c.identity.device &&
                static_cast<uint64_t>(by_name.st_ino) == c.identity.inode);
}

void InputReader::start_following() {
  follower_ = std::make_unique<Follower>(stop_fd_);
  for (Cursor& c : cursors_) {
    if (options_.inputs[c.input] != "-") follower_->watch(options_.inputs[c.input]);
    open_cursor(c);
  }
}

InputReader::Cursor* InputReader::pick() {
  size_t n = cursors_.size();
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t k = 0; k < n; ++k) {
      Cursor& c = cursors_[(turn_ + k) % n];
      if (c.finished) continue;
      if (pass == 1 && !check(c)) continue;
      if (c.source && !c.caught_up) {
        turn_ = (turn_ + k + 1) % n;
        return &c;
      }
    }
  }
  if (std::all_of(cursors_.begin(), cursors_.end(), [](const Cursor& c) { return c.finished; })) done_ = true;
  return nullptr;
}

bool InputReader::check(Cursor& c) {
  const std::string& path = options_.inputs[c.input];
  if (!c.source) return open_cursor(c);  // missing so far
  if (!c.identity.regular || c.leaving) return !c.caught_up;
  FileNews news = Follower::look(path, c.fd(), !c.gzip, c.rotated ? nullptr : &c.identity);
  if (news.kind == FileNews::Unknown) return false;
  TimePoint now = Clock::now();
  if (news.size != c.seen_size) {
    c.seen_size = news.size;
    c.quiet_since = now;
  }
  if (news.deleted && !c.deleted) {
    c.deleted = true;
    c.deleted_since = now;
    c.rotated = true;  // when it is left, the name is opened again (or waited for)
  }
  if (news.kind == FileNews::Rotated && !c.rotated) {
    c.rotated = true;  // read it as it grows until the rotation wait is over, then open the new one
    c.quiet_since = std::max(c.quiet_since, last_write(c.fd()));
  }
  if (c.rotated && !c.deleted) hold_name(c);
  if (news.kind == FileNews::Truncated && !c.rotated) {
    truncated(c, news);
    return true;
  }
  if (c.rotated) {
    LeaveDecision d = decide_leave({c.quiet_since, c.deleted, c.deleted_since, news.name_written},
                                   options_.rotate_wait, now);
    if (d.leave) {
      c.leaving = true;
      c.caught_up = false;  // one read to its end, then it is closed
      return true;
    }
    if (d.look_again && (!look_again_ || *d.look_again < *look_again_)) look_again_ = d.look_again;
  }
  return !c.caught_up;
}

void InputReader::hold_name(Cursor& c) {
  const std::string& path = options_.inputs[c.input];
  struct stat by_name {}, held {};
  if (::stat(path.c_str(), &by_name) != 0 || !S_ISREG(by_name.st_mode)) return;
  auto same = [&](int fd) {
    return ::fstat(fd, &held) == 0 && held.st_dev == by_name.st_dev && held.st_ino == by_name.st_ino;
  };
  if (same(c.fd())) return;
  for (const std::unique_ptr<Source>& q : c.queued)
    if (same(q->fd())) return;
  std::unique_ptr<FdSource> next = FdSource::open(path);
  if (next && same(next->fd())) c.queued.push_back(std::move(next));
}

void InputReader::truncated(Cursor& c, const FileNews& news) {
  const std::string& path = options_.inputs[c.input];
  std::string what = news.size < news.read_to
                         ? fmt::format("truncated (now {} bytes, read up to {})", news.size, news.read_to)
                         : fmt::format("rewritten (its first bytes changed; now {} bytes, read up to {})", news.size,
                                       news.read_to);
  // copytruncate: what was not read yet is in the copy beside it.
  FoundFile copy = find_copy(path, c.identity, news.read_to);
  if (copy.fd >= 0) {
    note(false, fmt::format("{}: {}: reading the rest from its copy {} first", path, what, copy.path));
    c.source = std::make_unique<FdSource>(copy.fd);
    bool begins = c.begins;
    c.reset_file_state();
    c.begins = begins;  // the same positions go on: not a new file for the checkpoint
    c.stand_in = c.rotated = c.leaving = true;
    if (copy.gzip) {
      c.skip = news.read_to;
    } else {
      (void)::lseek(c.fd(), static_cast<off_t>(news.read_to), SEEK_SET);
      c.first_read = false;
    }
    return;
  }
  std::string lost = copy.shorter ? std::string("; a copy beside it holds no more than was read: nothing skipped")
                     : c.seen_size > news.read_to
                         ? fmt::format("; at least {} bytes written after byte {} were skipped (no copy of it found "
                                       "beside it)",
                                       c.seen_size - news.read_to, news.read_to)
                         : fmt::format("; anything written after byte {} before that is skipped (no copy of it "
                                       "found beside it)",
                                       news.read_to);
  if (copy.shorter) note(false, fmt::format("{}: {}: reading it again from the start{}", path, what, lost));
  else note_loud(fmt::format("{}: {}: reading it again from the start{}", path, what, lost));
  (void)::lseek(c.fd(), 0, SEEK_SET);
  c.framer.restart();
  c.reset_file_state();
  c.identity = identify(c.fd());
  c.seen_size = news.size;
}

bool InputReader::wait_for_change() {
  std::vector<int> pipes;
  for (const Cursor& c : cursors_)
    if (c.source && !c.identity.regular && !c.finished) pipes.push_back(c.fd());
  int timeout = look_again_ ? poll_timeout(look_again_) : -1;
  look_again_.reset();
  if (!follower_->wait(pipes, timeout)) return false;
  for (Cursor& c : cursors_) c.caught_up = false;  // one read each tells whether there is more
  return true;
}

void InputReader::close_current() {
  if (!cur_) return;
  cur_->source.reset();
  cur_->first_read = true;
  cur_->gzip = false;
}

void InputReader::note_loud(std::string text) { notes_.push_back({false, std::move(text), true}); }

void InputReader::note(bool error, std::string text, ExitStatus status) {
  notes_.push_back({error, std::move(text)});
  notes_status_ = combine(notes_status_, status);
  status_ = combine(status_, status);
}

bool InputReader::next(InputBlock& block) {
  auto hand_out = [&](std::vector<InputNote>& to, ExitStatus& status) {
    for (InputNote& n : notes_) to.push_back(std::move(n));
    notes_.clear();
    status = combine(status, notes_status_);
    notes_status_ = ExitStatus::Success;
  };
  if (options_.follow && !follower_) start_following();
  while (!done_) {
    block.lines.clear();
    block.oversized.clear();
    block.notes_before.clear();
    block.notes_after.clear();
    block.status_before = block.status_after = ExitStatus::Success;
    block.input_bytes = block.line_count = 0;
    block.identity = FileIdentity{};
    block.begins = false;
    bool opened;
    if (options_.follow) {
      cur_ = pick();
      opened = cur_ != nullptr;
      if (!opened && notes_.empty()) {
        if (!wait_for_change()) {
          done_ = true;
          break;
        }
        continue;
      }
    } else {
      opened = (cur_ && cur_->source) || open_next();
    }
    hand_out(block.notes_before, block.status_before);
    if (!opened) {
      if (!options_.follow) done_ = true;
      return !block.notes_before.empty();  // inputs that would not open, after the last lines
    }
    Cursor& c = *cur_;
    block.input = c.input;
    if (c.identity.regular && !c.stand_in && c.identity.fingerprint_bytes < kFingerprintBytes) {
      // It grew: a longer fingerprint, if it still starts as it did (a
      // truncated file is check()'s to find, by the fingerprint it had).
      FileIdentity grown = identify(c.fd());
      if (grown.fingerprint_bytes > c.identity.fingerprint_bytes &&
          fingerprint_prefix(c.fd(), c.identity.fingerprint_bytes) == c.identity.fingerprint)
        c.identity = grown;
    }
    block.identity = c.identity;
    // A block is filled only as far as it fits the budget: a reader slower
    // than the loop would otherwise fill every free block of the pool after
    // the loop stopped, and a whole block asked for would stop reading a
    // block short of the budget. Near it, blocks get smaller (kLeastRead at
    // least). If the wait ends on a stop, fill() sees the stop latch.
    size_t size = options_.block_size, keep = SIZE_MAX;
    if (room_) {
      keep = room_->grant(std::min(kLeastRead, size), std::max(block.buffer.size(), size));
      size = std::min(size, keep);
    }
    c.framer.begin(block, size, keep);
    if (room_) room_->holding(block.buffer.size());

    Fill result = fill(block);
    bool ended = false;
    if (result == Fill::Lines || result == Fill::CaughtUp) {
      c.framer.frame(block, kMaxLinesPerBlock);
      if (result == Fill::CaughtUp) c.caught_up = true;
    } else {
      size_t cut = c.framer.finish(block, result == Fill::EndOfFile);
      if (cut && !done_) {
        std::string what = fmt::format("{}: stopped before the end of the line; its first {} bytes were dropped",
                                       describe_line(options_.inputs, block.input, c.framer.line() + 1), cut);
        if (result == Fill::Stopped) unfinished_ = std::move(what);
        else note(false, std::move(what));
      }
      if (result == Fill::Stopped) done_ = true;
      ended = true;
    }
    block.begins = std::exchange(c.begins, false);
    if (ended) {
      close_current();
      if (result == Fill::EndOfFile && c.rotated && !done_) {
        after_old_file(c);
      } else {
        c.finished = true;
      }
    }
    hand_out(block.notes_after, block.status_after);
    if (room_) room_->holding(c.framer.carried());  // the block itself is the queue's to count from here
    bool empty = block.lines.empty() && block.oversized.empty() && block.notes_before.empty() &&
                 block.notes_after.empty() && block.input_bytes == 0;
    if (options_.follow && empty && !done_) {
      if (block.begins && c.source) c.begins = true;  // still to be said with the first lines
      continue;  // nothing new here: look at the other files, or wait
    }
    return true;
  }
  return false;
}

InputReader::Fill InputReader::fill(InputBlock& block) {
  LineFramer& framer = cur_->framer;
  if (framer.has_line()) return Fill::Lines;
  for (;;) {
    if (size_t more = framer.growth(block); more && room_) {
      if (!room_->wait_for(more)) return Fill::Stopped;  // the stop latch is up
      room_->holding(block.buffer.size() + more);
    }
    std::span<char> room = framer.space(block);
    if (room.empty()) return Fill::Lines;
    if (done_) return Fill::Lines;

    pollfd fds[2] = {{cur_->fd(), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    bool decoded_ready = cur_->source->ready();  // e.g. compressed bytes already read: no need to wait
    // --follow never waits here: other files may have lines meanwhile (see wait_for_change()).
    int ready = ::poll(fds, stop_fd_ >= 0 ? 2 : 1, framer.has_line() || decoded_ready || options_.follow ? 0 : -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      note(true, fmt::format("{}: poll: {}", input_name(options_.inputs, block.input), std::strerror(errno)),
           ExitStatus::InputUnreadable);
      return Fill::Error;
    }
    if (stop_fd_ >= 0 && fds[1].revents) return Fill::Stopped;
    if (ready == 0 && !decoded_ready) return options_.follow ? Fill::CaughtUp : Fill::Lines;

    ssize_t n = read_input(room.data(), room.size(), block.input);
    if (n == kReadAgain) {
      if (framer.has_line()) return Fill::Lines;
      if (options_.follow && !cur_->gzip) return Fill::CaughtUp;
      continue;
    }
    if (n == kReadError) return Fill::Error;
    // Followed, the end of a regular file is only where the writer is now.
    if (n == 0 && options_.follow && cur_->identity.regular && !cur_->gzip && !cur_->leaving) return Fill::CaughtUp;
    if (n == 0) {
      framer.end_of_input(block);
      return Fill::EndOfFile;  // a held line is the buffer's last line, as it stands
    }
    framer.fed(block, static_cast<size_t>(n));
  }
}

ssize_t InputReader::read_input(char* dst, size_t cap, uint32_t input) {
  Cursor& c = *cur_;
  std::string error;
  ssize_t n = c.source->read(dst, cap, error);
  if (n > 0 && c.first_read) {
    c.first_read = false;
    if (looks_gzipped(dst, static_cast<size_t>(n))) {  // from here on, this input is decompressed
      auto gzip = std::make_unique<GzipSource>(std::move(c.source), c.skip);
      bool started = gzip->start(dst, static_cast<size_t>(n), error);
      c.source = std::move(gzip);
      c.gzip = true;
      n = started ? c.source->read(dst, cap, error) : Source::kError;
    }
  }
  if (n == Source::kAgain) return kReadAgain;
  if (n == Source::kError) {
    note(true, fmt::format("{}: {}", input_name(options_.inputs, input), error), ExitStatus::InputUnreadable);
    return kReadError;
  }
  return n;
}

std::string describe_line(const std::vector<std::string>& inputs, uint32_t input, uint64_t line) {
  if (inputs.size() == 1 && inputs[0] == "-") return fmt::format("line {}", line);
  return fmt::format("{}: line {}", input_name(inputs, input), line);
}

std::string input_name(const std::vector<std::string>& inputs, uint32_t input) {
  return inputs.at(input) == "-" ? std::string("stdin") : inputs.at(input);
}

}  // namespace batchpipe
