#include "input/input_reader.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "diagnostics.h"
#include "std_fds.h"

namespace batchpipe {
namespace {

/// Whitespace around a record beyond --max-bytes that is still held, so that a
/// record padded with a few spaces is not mistaken for an oversized one.
constexpr uint64_t kSlack = 64;
constexpr std::string_view kBom = "\xEF\xBB\xBF";
/// Pipes are enlarged to this, so that each read moves more at once.
constexpr int kPipeSize = 1 << 20;

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

}  // namespace

InputReader::InputReader(ReaderOptions options, int stop_fd)
    : options_(std::move(options)), stop_fd_(stop_fd) {}

InputReader::~InputReader() { close_current(); }

bool InputReader::open_next() {
  while (next_input_ < options_.inputs.size()) {
    const std::string& path = options_.inputs[next_input_++];
    line_ = 0;
    if (path == "-" && std_fds::was_closed(STDIN_FILENO)) {
      // Started with stdin closed: /dev/null stands in for it, but reading
      // that would pass an unreadable input off as an empty one.
      note(true, fmt::format("stdin: {}", std::strerror(EBADF)), ExitStatus::InputUnreadable);
      continue;
    }
    if (path == "-") {
      fd_ = STDIN_FILENO;
      (void)::fcntl(fd_, F_SETPIPE_SZ, kPipeSize);  // fails harmlessly on non-pipes
      return true;
    }
    // O_NONBLOCK: a FIFO without a writer must not block open(); fill()
    // polls before every read, so the stop latch is heard while it waits.
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd_ >= 0) {
      (void)::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
      return true;
    }
    // Out of descriptors is a resource problem, not a bad input (exit 7).
    bool resources = errno == EMFILE || errno == ENFILE || errno == ENOMEM;
    note(true, fmt::format("{}: {}", path, std::strerror(errno)),
         resources ? ExitStatus::SystemError : ExitStatus::InputUnreadable);
  }
  return false;
}

void InputReader::close_current() {
  if (fd_ > STDIN_FILENO) ::close(fd_);
  fd_ = -1;
  first_read_ = true;
  gzip_.reset();
  carry_.clear();
  discarding_ = false;
}

void InputReader::note(bool error, std::string text, ExitStatus status) {
  notes_.push_back({error, std::move(text)});
  notes_status_ = combine(notes_status_, status);
  status_ = combine(status_, status);
}

bool InputReader::next(InputBlock& block) {
  block.lines.clear();
  block.oversized.clear();
  block.notes_before.clear();
  block.notes_after.clear();
  block.status_before = block.status_after = ExitStatus::Success;
  block.input_bytes = block.line_count = 0;
  auto hand_out = [&](std::vector<InputNote>& to, ExitStatus& status) {
    for (InputNote& n : notes_) to.push_back(std::move(n));
    notes_.clear();
    status = combine(status, notes_status_);
    notes_status_ = ExitStatus::Success;
  };
  while (!done_) {
    bool opened = fd_ >= 0 || open_next();
    hand_out(block.notes_before, block.status_before);
    if (!opened) {
      done_ = true;
      return !block.notes_before.empty();  // inputs that would not open, after the last lines
    }
    block.input = static_cast<uint32_t>(next_input_ - 1);
    // A carried partial line that fills the buffer grows it in fill(); otherwise
    // buffers keep one size, so the allocator is not asked for ever-new sizes.
    size_t want = std::max(options_.block_size, carry_.size()) + kValidatorPadding;
    if (block.buffer.size() < want || block.buffer.size() > 4 * want)
      block.buffer = std::vector<char>(want);  // also gives back what a giant line took
    std::memcpy(block.buffer.data(), carry_.data(), carry_.size());
    size_t used = carry_.size();
    carry_.clear();

    Fill result = fill(block, used);
    const char* buf = block.buffer.data();
    size_t end = used;
    if (result != Fill::EndOfFile) {
      const char* nl = static_cast<const char*>(::memrchr(buf, '\n', used));
      end = nl ? static_cast<size_t>(nl - buf) + 1 : 0;
    }
    if (result == Fill::Lines) {
      end = frame(block, end, kMaxLinesPerBlock);
      carry_.assign(buf + end, used - end);
    } else {
      frame(block, end, SIZE_MAX);
      bool partial = std::any_of(buf + end, buf + used, [](char c) { return !is_blank(c); });
      if (partial && !done_) {
        std::string what = fmt::format("{}: stopped before the end of the line; its first {} bytes were dropped",
                                       describe_line(options_.inputs, block.input, line_ + 1), used - end);
        if (result == Fill::Stopped) unfinished_ = std::move(what);
        else note(false, std::move(what));
      }
      if (result == Fill::Stopped) done_ = true;
      close_current();
    }
    hand_out(block.notes_after, block.status_after);
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
    discard_size_ += discard_blanks + static_cast<uint64_t>(q - p);
    discard_blanks = static_cast<uint64_t>(p + n - q);
  };
  // Where the partial line at the start of the buffer begins: after a BOM that
  // frame() will strip, and after one blank that keeps a later BOM from
  // looking like the first.
  auto line_start = [&] {
    size_t start = line_ == 0 && std::string_view(buf, used).starts_with(kBom) ? kBom.size() : 0;
    if (line_ == 0 && start == 0 && used > 0 && is_blank(buf[0])) start = 1;
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
        used = content_end;
        continue;
      }
      discarding_ = true;
      discard_line_ = line_ + 1;
      discard_size_ = content_end - content_start;
      discard_blanks = used - content_end;
      block.input_bytes += used;
      used = 0;
    }
    if (used == cap) return Fill::Lines;
    if (done_) return Fill::Lines;

    pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    bool decoded_ready = gzip_ && gzip_->pending();  // compressed bytes already read: no need to wait
    int ready = ::poll(fds, stop_fd_ >= 0 ? 2 : 1, have_line || decoded_ready ? 0 : -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      note(true, fmt::format("{}: poll: {}", input_name(options_.inputs, block.input), std::strerror(errno)),
           ExitStatus::InputUnreadable);
      return Fill::Error;
    }
    if (stop_fd_ >= 0 && fds[1].revents) return Fill::Stopped;
    if (ready == 0 && !decoded_ready) return Fill::Lines;

    ssize_t n = read_input(buf + used, cap - used, block.input);
    if (n == kReadAgain) {
      if (have_line) return Fill::Lines;
      continue;
    }
    if (n == kReadError) return Fill::Error;
    if (n == 0) {
      if (discarding_) {
        ++line_;
        ++block.line_count;
        reject(block, discard_line_, discard_size_);
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
        continue;
      }
      holding = false;
      if (fresh[blanks] == '\n') {
        // Only blanks after the content: the line ends, with a record that fits.
        std::memmove(fresh, fresh + blanks, got - blanks);
        block.input_bytes += blanks;
        got -= blanks;
      } else {
        // More content after the dropped blanks, which were inside the
        // record after all: too big (content and blanks filled the buffer).
        size_t start = line_start();
        discarding_ = true;
        discard_line_ = line_ + 1;
        discard_size_ = used - start;
        discard_blanks = held_blanks;
        block.input_bytes += used;
        std::memmove(buf, fresh, got);
        used = 0;
        fresh = buf;
      }
    }
    if (discarding_) {
      char* nl = static_cast<char*>(std::memchr(fresh, '\n', got));
      size_t part = nl ? static_cast<size_t>(nl - fresh) : got;
      count_discarded(fresh, part);
      block.input_bytes += part + (nl ? 1 : 0);
      if (!nl) continue;
      discarding_ = false;
      ++line_;
      ++block.line_count;
      reject(block, discard_line_, discard_size_);
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
  block.first_line = line_ + 1;
  size_t pos = 0;
  for (size_t framed = 0; pos < end && framed < max_lines; ++framed) {
    const char* nl = static_cast<const char*>(std::memchr(buf + pos, '\n', end - pos));
    size_t line_end = nl ? static_cast<size_t>(nl - buf) : end;
    ++line_;
    ++block.line_count;
    size_t s = pos, e = line_end;
    if (line_ == 1 && e - s >= kBom.size() && std::string_view(buf + s, kBom.size()) == kBom)
      s += kBom.size();
    if (options_.text) {
      if (e > s && buf[e - 1] == '\r') --e;  // CRLF: the whole line ending goes, nothing else
      if (nl || e > s)  // every line, empty ones too; not the nothing after a final newline
        block.lines.push_back({static_cast<uint32_t>(s), static_cast<uint32_t>(e - s),
                               static_cast<uint32_t>(line_ - block.first_line)});
      pos = std::min(end, line_end + 1);
      continue;
    }
    while (s < e && is_blank(buf[s])) ++s;
    while (e > s && is_blank(buf[e - 1])) --e;
    if (s < e)
      block.lines.push_back({static_cast<uint32_t>(s), static_cast<uint32_t>(e - s),
                             static_cast<uint32_t>(line_ - block.first_line)});
    pos = std::min(end, line_end + 1);
  }
  block.input_bytes += pos;
  return pos;
}

ssize_t InputReader::read_input(char* dst, size_t cap, uint32_t input) {
  constexpr size_t kCompressedChunk = 256 << 10;
  auto fail = [&](std::string_view what) {
    std::string where = gzip_ ? fmt::format(" (after {} compressed bytes, {} bytes decompressed)",
                                            gzip_->compressed_bytes(), gzip_->decompressed_bytes())
                              : std::string();
    note(true, fmt::format("{}: {}{}", input_name(options_.inputs, input), what, where), ExitStatus::InputUnreadable);
    return kReadError;
  };
  std::string error;
  if (gzip_) {
    if (!gzip_->pending()) {
      ssize_t r = ::read(fd_, gzip_->space(kCompressedChunk), kCompressedChunk);
      if (r < 0) return errno == EINTR || errno == EAGAIN ? kReadAgain : fail(fmt::format("read error: {}", std::strerror(errno)));
      if (r == 0) return gzip_->finish(error) ? 0 : fail(error);
      gzip_->fed(static_cast<size_t>(r));
    }
    ssize_t made = gzip_->inflate_into(dst, cap, error);
    if (made < 0) return fail(error);
    return made == 0 ? kReadAgain : made;
  }
  ssize_t n = ::read(fd_, dst, cap);
  if (n < 0) return errno == EINTR || errno == EAGAIN ? kReadAgain : fail(fmt::format("read error: {}", std::strerror(errno)));
  if (first_read_ && n > 0) {
    first_read_ = false;
    if (looks_gzipped(dst, static_cast<size_t>(n))) {  // from here on, this input is decompressed
      gzip_ = std::make_unique<GzipDecoder>();
      if (!gzip_->init(error)) return fail(error);
      std::memcpy(gzip_->space(static_cast<size_t>(n)), dst, static_cast<size_t>(n));
      gzip_->fed(static_cast<size_t>(n));
      ssize_t made = gzip_->inflate_into(dst, cap, error);
      if (made < 0) return fail(error);
      return made == 0 ? kReadAgain : made;
    }
  }
  return n;
}

void InputReader::reject(InputBlock& block, uint64_t line, uint64_t size) {
  block.oversized.push_back({line, size});
}

std::string describe_line(const std::vector<std::string>& inputs, uint32_t input, uint64_t line) {
  if (inputs.size() == 1 && inputs[0] == "-") return fmt::format("line {}", line);
  return fmt::format("{}: line {}", input_name(inputs, input), line);
}

std::string input_name(const std::vector<std::string>& inputs, uint32_t input) {
  return inputs.at(input) == "-" ? std::string("stdin") : inputs.at(input);
}

}  // namespace batchpipe
