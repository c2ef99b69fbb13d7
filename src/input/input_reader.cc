#include "input/input_reader.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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

namespace batchpipe {
namespace {


}  // namespace

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
  // --follow
  bool caught_up = false;    ///< read to its end; waits for news
  bool finished = false;     ///< not followed any further (stdin, a pipe, gzip, an error)
  bool rotated = false;      ///< the name points to another file: finish this one, then open that
  bool missing = false;      ///< the name named no file when last looked at
  bool resumable = true;     ///< the checkpoint's position applies to the next open (the first)
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
  c.skip = 0;
  c.identity = FileIdentity{};
  c.begins = true;
  c.caught_up = c.rotated = false;
  if (path == "-" && std_fds::was_closed(STDIN_FILENO)) {
    // Started with stdin closed: /dev/null stands in for it, but reading
    // that would pass an unreadable input off as an empty one.
    note(true, fmt::format("stdin: {}", std::strerror(EBADF)), ExitStatus::InputUnreadable);
    c.finished = true;
    return false;
  }
  c.source = FdSource::open(path);
  if (path == "-") return true;  // nothing to identify or resume
  if (!c.source && errno == ENOENT && open_moved_away(c)) errno = 0;  // moved away, no new file yet
  if (c.source) {
    start_file(c.input);
    c.missing = false;
    return true;
  }
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

bool InputReader::open_moved_away(Cursor& c) {
  if (!c.resumable || c.input >= options_.resume.size() || !options_.resume[c.input]) return false;
  const ResumePoint& saved = *options_.resume[c.input];
  std::string found;
  int fd = open_moved(options_.inputs[c.input], saved.identity, found);
  if (fd < 0) return false;
  c.source = std::make_unique<FdSource>(fd);
  c.rotated = true;  // then the file the name points to, from its start
  note(false, fmt::format("{}: rotated since the checkpoint: reading the rest of {} first", options_.inputs[c.input],
                          found));
  return true;
}

void InputReader::start_file(uint32_t input) {
  cur_->identity = identify(cur_->fd());
  bool resumable = cur_->resumable;
  if (resumable && !cur_->identity.regular && !options_.resume.empty())  // --checkpoint in use
    note(false, fmt::format("{}: not a regular file: --checkpoint cannot resume it; what it sends is read once",
                            options_.inputs[input]));
  if (!resumable || !cur_->identity.regular || input >= options_.resume.size() || !options_.resume[input]) {
    cur_->resumable = false;
    return;
  }
  const ResumePoint& saved = *options_.resume[input];
  // Rotated while no run was reading: what was left of the file the
  // checkpoint saw comes before the new one.
  if (!saved.identity.same_file(cur_->identity) && open_moved_away(*cur_)) cur_->identity = identify(cur_->fd());
  cur_->resumable = false;
  FileNow now;
  now.identity = cur_->identity;
  struct stat st {};
  if (::fstat(cur_->fd(), &st) == 0) now.size = static_cast<uint64_t>(st.st_size);
  char magic[2];
  now.gzip = ::pread(cur_->fd(), magic, 2, 0) == 2 && looks_gzipped(magic, 2);
  if (saved.identity.fingerprint_bytes <= kFingerprintBytes)
    now.saved_prefix_print = fingerprint_prefix(cur_->fd(), saved.identity.fingerprint_bytes);
  ResumeDecision d = decide_resume(options_.inputs[input], saved, now);
  if (!d.warning.empty()) note(false, std::move(d.warning));
  if (d.offset == 0) return;
  if (now.gzip) {
    cur_->skip = d.offset;  // decompressed from the start, the first d.offset bytes dropped
  } else {
    if (::lseek(cur_->fd(), static_cast<off_t>(d.offset), SEEK_SET) < 0) return;  // read from the start then
    cur_->first_read = false;  // what comes first is no longer the file's start: no gzip magic to look for
  }
  cur_->framer.restart(d.offset, d.line);
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
  if (!c.identity.regular || c.rotated) return !c.caught_up;
  FileNews news = Follower::look(path, c.fd(), !c.gzip);
  if (news.kind == FileNews::Unknown) return false;
  if (news.kind == FileNews::Rotated) {
    c.rotated = true;  // read what is left of the old file, then open the new one
    c.caught_up = false;
    return true;
  }
  if (news.kind == FileNews::Truncated) {
    note(false, fmt::format("{}: truncated (now {} bytes, read up to {}): reading it again from the start", path,
                            news.size, news.read_to));
    (void)::lseek(c.fd(), 0, SEEK_SET);
    c.framer.restart();
    c.first_read = true;
    c.identity = identify(c.fd());
    c.begins = true;
    c.caught_up = false;
    return true;
  }
  return !c.caught_up;
}

bool InputReader::wait_for_change() {
  std::vector<int> pipes;
  for (const Cursor& c : cursors_)
    if (c.source && !c.identity.regular && !c.finished) pipes.push_back(c.fd());
  if (!follower_->wait(pipes)) return false;
  for (Cursor& c : cursors_) c.caught_up = false;  // one read each tells whether there is more
  return true;
}

void InputReader::close_current() {
  if (!cur_) return;
  cur_->source.reset();
  cur_->first_read = true;
  cur_->gzip = false;
}

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
    if (c.identity.regular && c.identity.fingerprint_bytes < kFingerprintBytes) c.identity = identify(c.fd());  // it grew
    block.identity = c.identity;
    // A block is filled only when it fits the budget: the loop reserves
    // room for one, but a reader slower than the loop would otherwise fill
    // every free block of the pool after the loop stopped. If the wait ends
    // on a stop, fill() sees the stop latch.
    if (room_) (void)room_->wait_for(std::max(block.buffer.size(), options_.block_size));
    c.framer.begin(block, options_.block_size);
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
        c.resumable = false;  // the name's new file, from its start
        open_cursor(c);
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
    if (n == 0 && options_.follow && cur_->identity.regular && !cur_->gzip && !cur_->rotated) return Fill::CaughtUp;
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
