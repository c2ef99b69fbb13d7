#include "input/input_reader.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "base/diagnostics.h"
#include "base/std_fds.h"

namespace batchpipe {
namespace {

/// Whitespace around a record beyond --max-bytes that is still held, so that a
/// record padded with a few spaces is not mistaken for an oversized one.
constexpr uint64_t kSlack = 64;
constexpr std::string_view kBom = "\xEF\xBB\xBF";
/// Pipes are enlarged to this, so that each read moves more at once.
constexpr int kPipeSize = 1 << 20;
/// --follow: how often files are looked at when inotify says nothing.
constexpr int kFollowPollMs = 1000;

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

}  // namespace

InputReader::InputReader(ReaderOptions options, int stop_fd)
    : options_(std::move(options)), stop_fd_(stop_fd), cursors_(options_.inputs.size()) {
  for (size_t i = 0; i < cursors_.size(); ++i) cursors_[i].input = static_cast<uint32_t>(i);
}

InputReader::~InputReader() {
  for (Cursor& c : cursors_) {
    cur_ = &c;
    close_current();
  }
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

bool InputReader::open_cursor(Cursor& c) {
  const std::string& path = options_.inputs[c.input];
  cur_ = &c;
  c.line = c.consumed = c.skip = 0;
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
  if (path == "-") {
    c.fd = STDIN_FILENO;
    (void)::fcntl(c.fd, F_SETPIPE_SZ, kPipeSize);  // fails harmlessly on non-pipes
    return true;
  }
  // O_NONBLOCK: a FIFO without a writer must not block open(); fill()
  // polls before every read, so the stop latch is heard while it waits.
  c.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (c.fd < 0 && errno == ENOENT && open_moved_away(c)) errno = 0;  // moved away, no new file yet
  if (c.fd >= 0) {
    (void)::posix_fadvise(c.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
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
  if (c.fd > STDIN_FILENO) ::close(c.fd);
  c.fd = fd;
  c.rotated = true;  // then the file the name points to, from its start
  note(false, fmt::format("{}: rotated since the checkpoint: reading the rest of {} first", options_.inputs[c.input],
                          found));
  return true;
}

void InputReader::start_file(uint32_t input) {
  cur_->identity = identify(cur_->fd);
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
  if (!saved.identity.same_file(cur_->identity) && open_moved_away(*cur_)) cur_->identity = identify(cur_->fd);
  cur_->resumable = false;
  FileNow now;
  now.identity = cur_->identity;
  struct stat st {};
  if (::fstat(cur_->fd, &st) == 0) now.size = static_cast<uint64_t>(st.st_size);
  char magic[2];
  now.gzip = ::pread(cur_->fd, magic, 2, 0) == 2 && looks_gzipped(magic, 2);
  if (saved.identity.fingerprint_bytes <= kFingerprintBytes)
    now.saved_prefix_print = fingerprint_prefix(cur_->fd, saved.identity.fingerprint_bytes);
  ResumeDecision d = decide_resume(options_.inputs[input], saved, now);
  if (!d.warning.empty()) note(false, std::move(d.warning));
  if (d.offset == 0) return;
  if (now.gzip) {
    cur_->skip = d.offset;  // decompressed from the start, the first d.offset bytes dropped
  } else {
    if (::lseek(cur_->fd, static_cast<off_t>(d.offset), SEEK_SET) < 0) return;  // read from the start then
    cur_->first_read = false;  // what comes first is no longer the file's start: no gzip magic to look for
  }
  cur_->consumed = d.offset;
  cur_->line = d.line;
}

void InputReader::start_following() {
  following_ = true;
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);  // without it, the slow stat poll alone
  for (Cursor& c : cursors_) {
    const std::string& path = options_.inputs[c.input];
    if (inotify_fd_ >= 0 && path != "-") {
      // The directory, not the file: it also tells of files created, renamed or removed.
      std::string dir = std::filesystem::path(path).parent_path().string();
      (void)::inotify_add_watch(inotify_fd_, dir.empty() ? "." : dir.c_str(),
                                IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB |
                                    IN_CLOSE_WRITE);
    }
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
      if (c.fd >= 0 && !c.caught_up) {
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
  if (c.fd < 0) return open_cursor(c);  // missing so far
  if (!c.identity.regular || c.rotated) return !c.caught_up;
  struct stat by_name {}, open {};
  if (::fstat(c.fd, &open) != 0) return false;
  bool named = ::stat(path.c_str(), &by_name) == 0;
  if (named && (by_name.st_dev != open.st_dev || by_name.st_ino != open.st_ino)) {
    c.rotated = true;  // read what is left of the old file, then open the new one
    c.caught_up = false;
    return true;
  }
  off_t at = ::lseek(c.fd, 0, SEEK_CUR);
  if (!c.gzip && at > open.st_size) {
    note(false, fmt::format("{}: truncated (now {} bytes, read up to {}): reading it again from the start", path,
                            static_cast<uint64_t>(open.st_size), static_cast<uint64_t>(at)));
    (void)::lseek(c.fd, 0, SEEK_SET);
    c.line = c.consumed = 0;
    c.carry.clear();
    c.discarding = false;
    c.first_read = true;
    c.identity = identify(c.fd);
    c.begins = true;
    c.caught_up = false;
    return true;
  }
  return !c.caught_up;
}

bool InputReader::wait_for_change() {
  std::vector<pollfd> fds = {{stop_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
  for (const Cursor& c : cursors_)
    if (c.fd >= 0 && !c.identity.regular && !c.finished) fds.push_back({c.fd, POLLIN, 0});
  // Without word from inotify, files are looked at again every so often
  // (appends it cannot see, a directory it could not watch).
  int ready = ::poll(fds.data(), fds.size(), kFollowPollMs);
  if (ready < 0 && errno != EINTR) return true;
  if (fds[0].revents) return false;
  if (fds[1].revents) {
    char events[4096];
    while (::read(inotify_fd_, events, sizeof events) > 0) {
    }
  }
  for (Cursor& c : cursors_) c.caught_up = false;  // one read each tells whether there is more
  return true;
}

ssize_t InputReader::skip_decoded(char* dst, ssize_t made) {
  if (cur_->skip == 0 || made <= 0) return made;
  uint64_t drop = std::min<uint64_t>(cur_->skip, static_cast<uint64_t>(made));
  cur_->skip -= drop;
  std::memmove(dst, dst + drop, static_cast<size_t>(made) - drop);
  made -= static_cast<ssize_t>(drop);
  return made == 0 ? kReadAgain : made;
}

void InputReader::close_current() {
  if (!cur_) return;
  if (cur_->fd > STDIN_FILENO) ::close(cur_->fd);
  cur_->fd = -1;
  cur_->first_read = true;
  cur_->gzip.reset();
  cur_->carry.clear();
  cur_->discarding = false;
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
  if (options_.follow && !following_) start_following();
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
      opened = (cur_ && cur_->fd >= 0) || open_next();
    }
    hand_out(block.notes_before, block.status_before);
    if (!opened) {
      if (!options_.follow) done_ = true;
      return !block.notes_before.empty();  // inputs that would not open, after the last lines
    }
    Cursor& c = *cur_;
    block.input = c.input;
    block.offset = c.consumed;
    block.skew = 0;
    block.framed = 0;
    if (c.identity.regular && c.identity.fingerprint_bytes < kFingerprintBytes) c.identity = identify(c.fd);  // it grew
    block.identity = c.identity;
    // A carried partial line that fills the buffer grows it in fill(); otherwise
    // buffers keep one size, so the allocator is not asked for ever-new sizes.
    size_t want = std::max(options_.block_size, c.carry.size()) + kValidatorPadding;
    if (block.buffer.size() < want || block.buffer.size() > 4 * want)
      block.buffer = ByteBuffer(want);  // also gives back what a giant line took
    std::memcpy(block.buffer.data(), c.carry.data(), c.carry.size());
    size_t used = c.carry.size();
    c.carry.clear();

    Fill result = fill(block, used);
    const char* buf = block.buffer.data();
    size_t end = used;
    if (result != Fill::EndOfFile) {
      const char* nl = static_cast<const char*>(::memrchr(buf, '\n', used));
      end = nl ? static_cast<size_t>(nl - buf) + 1 : 0;
    }
    bool ended = false;
    if (result == Fill::Lines || result == Fill::CaughtUp) {
      end = frame(block, end, kMaxLinesPerBlock);
      c.carry.assign(buf + end, used - end);
      if (result == Fill::CaughtUp) c.caught_up = true;
    } else {
      end = frame(block, end, SIZE_MAX);
      bool partial = std::any_of(buf + end, buf + used, [](char ch) { return !is_blank(ch); });
      if (partial && !done_) {
        std::string what = fmt::format("{}: stopped before the end of the line; its first {} bytes were dropped",
                                       describe_line(options_.inputs, block.input, c.line + 1), used - end);
        if (result == Fill::Stopped) unfinished_ = std::move(what);
        else note(false, std::move(what));
      }
      if (result == Fill::Stopped) done_ = true;
      ended = true;
    }
    block.framed = static_cast<uint32_t>(end);
    block.end_line = c.line;
    c.consumed += block.input_bytes;
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
    bool empty = block.lines.empty() && block.oversized.empty() && block.notes_before.empty() &&
                 block.notes_after.empty() && block.input_bytes == 0;
    if (options_.follow && empty && !done_) {
      if (block.begins && c.fd >= 0) c.begins = true;  // still to be said with the first lines
      continue;  // nothing new here: look at the other files, or wait
    }
    return true;
  }
  return false;
}

InputReader::Fill InputReader::fill(InputBlock& block, size_t& used) {
  char* buf = block.buffer.data();
  // Whole lines carried over (a block frames kMaxLinesPerBlock at most) are
  // framed before anything more is read, so the carry cannot grow.
  if (std::memchr(buf, '\n', used)) return Fill::Lines;
  bool have_line = false;
  // A line that fills the whole buffer is judged by its trimmed size, as
  // frame() would judge it: blanks around it are dropped rather than held.
  bool holding = false;         // the buffer holds such a line's content; only blanks came since
  uint64_t held_blanks = 0;     // those blanks, dropped
  uint64_t discard_blanks = 0;  // blanks ending what was discarded so far, not yet counted
  auto count_discarded = [&](const char* p, size_t n) {
    const char* q = p + n;
    while (q > p && is_blank(q[-1])) --q;
    if (q == p) {
      discard_blanks += n;
      return;
    }
    cur_->discard_size += discard_blanks + static_cast<uint64_t>(q - p);
    discard_blanks = static_cast<uint64_t>(p + n - q);
  };
  // Everything consumed so far was dropped: buffer[0] is the next byte of the input.
  auto dropped_all = [&] {
    block.offset = cur_->consumed + block.input_bytes;
    block.skew = 0;
  };
  // Where the partial line at the start of the buffer begins: after a BOM that
  // frame() will strip, and after one blank that keeps a later BOM from
  // looking like the first.
  auto line_start = [&] {
    size_t start = cur_->line == 0 && std::string_view(buf, used).starts_with(kBom) ? kBom.size() : 0;
    if (cur_->line == 0 && start == 0 && used > 0 && is_blank(buf[0])) start = 1;
    return start;
  };
  for (;;) {
    size_t cap = block.buffer.size() - kValidatorPadding;
    if (used == cap && !have_line) {
      // One line fills the whole buffer. Blanks before it are trimmed anyway.
      size_t start = line_start();
      size_t first = start;
      while (first < used && is_blank(buf[first])) ++first;
      if (first > start) {
        std::memmove(buf + start, buf + first, used - first);
        block.input_bytes += first - start;
        block.skew += first - start;
        used -= first - start;
        continue;
      }
      // Keep it if it may still fit a batch.
      if (cap < options_.max_record + kSlack) {
        block.buffer.resize(std::min<uint64_t>(cap * 2, options_.max_record + kSlack) + kValidatorPadding);
        buf = block.buffer.data();
        continue;
      }
      size_t content_start = start;
      while (content_start < used && is_blank(buf[content_start])) ++content_start;
      size_t content_end = used;
      while (content_end > content_start && is_blank(buf[content_end - 1])) --content_end;
      if (content_end - content_start <= options_.max_record) {
        // Its content fits, and blanks follow: drop those and see whether
        // only blanks come until the end of the line.
        holding = true;
        held_blanks = used - content_end;
        block.input_bytes += held_blanks;
        block.skew += held_blanks;
        used = content_end;
        continue;
      }
      cur_->discarding = true;
      cur_->discard_line = cur_->line + 1;
      cur_->discard_size = content_end - content_start;
      discard_blanks = used - content_end;
      block.input_bytes += used;
      dropped_all();
      used = 0;
    }
    if (used == cap) return Fill::Lines;
    if (done_) return Fill::Lines;

    pollfd fds[2] = {{cur_->fd, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    bool decoded_ready = cur_->gzip && cur_->gzip->pending();  // compressed bytes already read: no need to wait
    // --follow never waits here: other files may have lines meanwhile (see wait_for_change()).
    int ready = ::poll(fds, stop_fd_ >= 0 ? 2 : 1, have_line || decoded_ready || options_.follow ? 0 : -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      note(true, fmt::format("{}: poll: {}", input_name(options_.inputs, block.input), std::strerror(errno)),
           ExitStatus::InputUnreadable);
      return Fill::Error;
    }
    if (stop_fd_ >= 0 && fds[1].revents) return Fill::Stopped;
    if (ready == 0 && !decoded_ready) return options_.follow ? Fill::CaughtUp : Fill::Lines;

    ssize_t n = read_input(buf + used, cap - used, block.input);
    if (n == kReadAgain) {
      if (have_line) return Fill::Lines;
      if (options_.follow && !cur_->gzip) return Fill::CaughtUp;
      continue;
    }
    if (n == kReadError) return Fill::Error;
    // Followed, the end of a regular file is only where the writer is now.
    if (n == 0 && options_.follow && cur_->identity.regular && !cur_->gzip && !cur_->rotated) return Fill::CaughtUp;
    if (n == 0) {
      if (cur_->discarding) {
        ++cur_->line;
        ++block.line_count;
        reject(block, cur_->discard_line, cur_->discard_size);
      }
      return Fill::EndOfFile;  // a held line is the buffer's last line, as it stands
    }
    char* fresh = buf + used;
    size_t got = static_cast<size_t>(n);
    if (holding) {
      size_t blanks = 0;
      while (blanks < got && is_blank(fresh[blanks])) ++blanks;
      if (blanks == got) {
        held_blanks += got;
        block.input_bytes += got;
        block.skew += got;
        continue;
      }
      holding = false;
      if (fresh[blanks] == '\n') {
        // Only blanks after the content: the line ends, with a record that fits.
        std::memmove(fresh, fresh + blanks, got - blanks);
        block.input_bytes += blanks;
        block.skew += blanks;
        got -= blanks;
      } else {
        // More content after the dropped blanks, which were inside the
        // record after all: too big (content and blanks filled the buffer).
        size_t start = line_start();
        cur_->discarding = true;
        cur_->discard_line = cur_->line + 1;
        cur_->discard_size = used - start;
        discard_blanks = held_blanks;
        block.input_bytes += used;
        dropped_all();
        std::memmove(buf, fresh, got);
        used = 0;
        fresh = buf;
      }
    }
    if (cur_->discarding) {
      char* nl = static_cast<char*>(std::memchr(fresh, '\n', got));
      size_t part = nl ? static_cast<size_t>(nl - fresh) : got;
      count_discarded(fresh, part);
      block.input_bytes += part + (nl ? 1 : 0);
      dropped_all();
      if (!nl) continue;
      cur_->discarding = false;
      ++cur_->line;
      ++block.line_count;
      reject(block, cur_->discard_line, cur_->discard_size);
      size_t rest = static_cast<size_t>(fresh + got - (nl + 1));
      std::memmove(buf + used, nl + 1, rest);
      got = rest;
      fresh = buf + used;
    }
    have_line = have_line || std::memchr(fresh, '\n', got) != nullptr;
    used += got;
  }
}

size_t InputReader::frame(InputBlock& block, size_t end, size_t max_lines) {
  const char* buf = block.buffer.data();
  block.first_line = cur_->line + 1;
  size_t pos = 0;
  for (size_t framed = 0; pos < end && framed < max_lines; ++framed) {
    const char* nl = static_cast<const char*>(std::memchr(buf + pos, '\n', end - pos));
    size_t line_end = nl ? static_cast<size_t>(nl - buf) : end;
    ++cur_->line;
    ++block.line_count;
    size_t s = pos, e = line_end;
    if (cur_->line == 1 && e - s >= kBom.size() && std::string_view(buf + s, kBom.size()) == kBom)
      s += kBom.size();
    if (options_.text) {
      if (e > s && buf[e - 1] == '\r') --e;  // CRLF: the whole line ending goes, nothing else
      if (nl || e > s)  // every line, empty ones too; not the nothing after a final newline
        block.lines.push_back({static_cast<uint32_t>(s), static_cast<uint32_t>(e - s),
                               static_cast<uint32_t>(cur_->line - block.first_line)});
      pos = std::min(end, line_end + 1);
      continue;
    }
    while (s < e && is_blank(buf[s])) ++s;
    while (e > s && is_blank(buf[e - 1])) --e;
    if (s < e)
      block.lines.push_back({static_cast<uint32_t>(s), static_cast<uint32_t>(e - s),
                             static_cast<uint32_t>(cur_->line - block.first_line)});
    pos = std::min(end, line_end + 1);
  }
  block.input_bytes += pos;
  return pos;
}

ssize_t InputReader::read_input(char* dst, size_t cap, uint32_t input) {
  constexpr size_t kCompressedChunk = 256 << 10;
  auto fail = [&](std::string_view what) {
    std::string where = cur_->gzip ? fmt::format(" (after {} compressed bytes, {} bytes decompressed)",
                                            cur_->gzip->compressed_bytes(), cur_->gzip->decompressed_bytes())
                              : std::string();
    note(true, fmt::format("{}: {}{}", input_name(options_.inputs, input), what, where), ExitStatus::InputUnreadable);
    return kReadError;
  };
  std::string error;
  if (cur_->gzip) {
    if (!cur_->gzip->pending()) {
      ssize_t r = ::read(cur_->fd, cur_->gzip->space(kCompressedChunk), kCompressedChunk);
      if (r < 0) return errno == EINTR || errno == EAGAIN ? kReadAgain : fail(fmt::format("read error: {}", std::strerror(errno)));
      if (r == 0) return cur_->gzip->finish(error) ? 0 : fail(error);
      cur_->gzip->fed(static_cast<size_t>(r));
    }
    ssize_t made = cur_->gzip->inflate_into(dst, cap, error);
    if (made < 0) return fail(error);
    return made == 0 ? kReadAgain : skip_decoded(dst, made);
  }
  ssize_t n = ::read(cur_->fd, dst, cap);
  if (n < 0) return errno == EINTR || errno == EAGAIN ? kReadAgain : fail(fmt::format("read error: {}", std::strerror(errno)));
  if (cur_->first_read && n > 0) {
    cur_->first_read = false;
    if (looks_gzipped(dst, static_cast<size_t>(n))) {  // from here on, this input is decompressed
      cur_->gzip = std::make_unique<GzipDecoder>();
      if (!cur_->gzip->init(error)) return fail(error);
      std::memcpy(cur_->gzip->space(static_cast<size_t>(n)), dst, static_cast<size_t>(n));
      cur_->gzip->fed(static_cast<size_t>(n));
      ssize_t made = cur_->gzip->inflate_into(dst, cap, error);
      if (made < 0) return fail(error);
      return made == 0 ? kReadAgain : skip_decoded(dst, made);
    }
  }
  return n;
}

void InputReader::reject(InputBlock& block, uint64_t line, uint64_t size) {
  block.oversized.push_back({line, size});
}

uint64_t InputBlock::line_offset(const LineSpan& span) const {
  // Only blanks (and a BOM) lie between a line's start and its record.
  size_t p = span.offset;
  while (p > 0 && buffer[p - 1] != '\n') --p;
  return offset + p + (p > 0 ? skew : 0);
}

uint64_t InputBlock::line_end(const LineSpan& span) const {
  size_t p = span.offset + span.size;
  const void* nl = std::memchr(buffer.data() + p, '\n', framed > p ? framed - p : 0);
  p = nl ? static_cast<size_t>(static_cast<const char*>(nl) - buffer.data()) + 1 : std::max<size_t>(p, framed);
  return offset + p + skew;
}

std::string describe_line(const std::vector<std::string>& inputs, uint32_t input, uint64_t line) {
  if (inputs.size() == 1 && inputs[0] == "-") return fmt::format("line {}", line);
  return fmt::format("{}: line {}", input_name(inputs, input), line);
}

std::string input_name(const std::vector<std::string>& inputs, uint32_t input) {
  return inputs.at(input) == "-" ? std::string("stdin") : inputs.at(input);
}

}  // namespace batchpipe
