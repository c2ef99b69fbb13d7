#include "input_reader.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "diagnostics.h"
#include "json_quote.h"

namespace batchpipe {
namespace {

/// Whitespace around a record beyond --max-bytes that is still held, so that a
/// record padded with a few spaces is not mistaken for an oversized one.
constexpr uint64_t kSlack = 64;
constexpr std::string_view kBom = "\xEF\xBB\xBF";
/// Pipes are enlarged to this, so that each read moves more at once.
constexpr int kPipeSize = 1 << 20;

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string oversize(uint64_t size) {
  return fmt::format("record of {} bytes exceeds --max-bytes", size);
}

}  // namespace

InputReader::InputReader(ReaderOptions options, int stop_fd)
    : options_(std::move(options)), stop_fd_(stop_fd) {}

InputReader::~InputReader() { close_current(); }

bool InputReader::open_next() {
  while (next_input_ < options_.inputs.size()) {
    const std::string& path = options_.inputs[next_input_++];
    bool only_stdin = options_.inputs.size() == 1 && path == "-";
    display_name_ = path == "-" ? "stdin" : path;
    name_ = only_stdin ? "" : display_name_;
    line_ = 0;
    if (path == "-") {
      fd_ = STDIN_FILENO;
      (void)::fcntl(fd_, F_SETPIPE_SZ, kPipeSize);  // fails harmlessly on non-pipes
      return true;
    }
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ >= 0) {
      (void)::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
      return true;
    }
    diag::error(fmt::format("{}: {}", path, std::strerror(errno)));
    status_ = combine(status_, ExitStatus::InputUnreadable);
  }
  return false;
}

void InputReader::close_current() {
  if (fd_ > STDIN_FILENO) ::close(fd_);
  fd_ = -1;
  carry_.clear();
  discarding_ = false;
}

std::string InputReader::where(uint64_t line) const {
  return name_.empty() ? fmt::format("line {}", line) : fmt::format("{}: line {}", name_, line);
}

bool InputReader::next(InputBlock& block) {
  block.records.clear();
  block.quoted.clear();
  block.input_bytes = block.lines = block.invalid = 0;
  while (!done_) {
    if (fd_ < 0 && !open_next()) {
      done_ = true;
      break;
    }
    block.input = static_cast<uint32_t>(next_input_ - 1);
    size_t want = std::max(options_.block_size, carry_.size() * 2) + kValidatorPadding;
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
    frame(block, end);
    if (result == Fill::Lines) {
      carry_.assign(buf + end, used - end);
    } else {
      bool partial = std::any_of(buf + end, buf + used, [](char c) { return !is_blank(c); });
      if (partial && !done_)
        diag::warning(fmt::format("{}: dropped an unfinished line of {} bytes",
                                  where(line_ + 1), used - end));
      if (result == Fill::Stopped) done_ = true;
      close_current();
    }
    return true;
  }
  return false;
}

InputReader::Fill InputReader::fill(InputBlock& block, size_t& used) {
  char* buf = block.buffer.data();
  bool have_line = false;  // a carried partial line never holds a newline
  for (;;) {
    size_t cap = block.buffer.size() - kValidatorPadding;
    if (used == cap && !have_line) {
      // One line fills the whole buffer: keep it if it may still fit a batch.
      if (cap < options_.max_record + kSlack) {
        block.buffer.resize(std::min<uint64_t>(cap * 2, options_.max_record + kSlack) + kValidatorPadding);
        buf = block.buffer.data();
        continue;
      }
      discarding_ = true;
      discard_line_ = line_ + 1;
      discard_size_ = used;
      block.input_bytes += used;
      used = 0;
    }
    if (used == cap) return Fill::Lines;
    if (done_) return Fill::Lines;

    pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    int ready = ::poll(fds, stop_fd_ >= 0 ? 2 : 1, have_line ? 0 : -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      diag::error(fmt::format("{}: poll: {}", display_name_, std::strerror(errno)));
      return Fill::Error;
    }
    if (stop_fd_ >= 0 && fds[1].revents) return Fill::Stopped;
    if (ready == 0) return Fill::Lines;

    ssize_t n = ::read(fd_, buf + used, cap - used);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      diag::error(fmt::format("{}: read error: {}", display_name_, std::strerror(errno)));
      status_ = combine(status_, ExitStatus::InputUnreadable);
      return Fill::Error;
    }
    if (n == 0) {
      if (discarding_) {
        ++line_;
        ++block.lines;
        reject(block, discard_line_, oversize(discard_size_));
      }
      return Fill::EndOfFile;
    }
    char* fresh = buf + used;
    if (discarding_) {
      char* nl = static_cast<char*>(std::memchr(fresh, '\n', static_cast<size_t>(n)));
      if (!nl) {
        discard_size_ += static_cast<uint64_t>(n);
        block.input_bytes += static_cast<uint64_t>(n);
        continue;
      }
      discard_size_ += static_cast<uint64_t>(nl - fresh);
      block.input_bytes += static_cast<uint64_t>(nl - fresh) + 1;
      discarding_ = false;
      ++line_;
      ++block.lines;
      reject(block, discard_line_, oversize(discard_size_));
      size_t rest = static_cast<size_t>(fresh + n - (nl + 1));
      std::memmove(buf + used, nl + 1, rest);
      n = static_cast<ssize_t>(rest);
    }
    have_line = have_line || std::memchr(fresh, '\n', static_cast<size_t>(n)) != nullptr;
    used += static_cast<size_t>(n);
  }
}

void InputReader::frame(InputBlock& block, size_t end) {
  const char* buf = block.buffer.data();
  spans_.clear();
  span_lines_.clear();
  problems_.clear();
  for (size_t pos = 0; pos < end;) {
    const char* nl = static_cast<const char*>(std::memchr(buf + pos, '\n', end - pos));
    size_t line_end = nl ? static_cast<size_t>(nl - buf) : end;
    ++line_;
    ++block.lines;
    size_t s = pos, e = line_end;
    if (line_ == 1 && e - s >= kBom.size() && std::string_view(buf + s, kBom.size()) == kBom)
      s += kBom.size();
    while (s < e && is_blank(buf[s])) ++s;
    while (e > s && is_blank(buf[e - 1])) --e;
    if (s < e) {
      spans_.push_back({static_cast<uint32_t>(s), static_cast<uint32_t>(e - s)});
      span_lines_.push_back(line_);
    }
    pos = line_end + 1;
  }
  block.input_bytes += end;

  validator_.validate(buf, end, spans_, problems_);
  size_t p = 0;
  for (size_t i = 0; i < spans_.size() && !done_; ++i) {
    std::string_view text(buf + spans_[i].offset, spans_[i].size);
    const std::string* problem = nullptr;
    if (p < problems_.size() && problems_[p].index == i) problem = &problems_[p++].reason;
    if (text.size() > options_.max_record)
      reject(block, span_lines_[i], oversize(text.size()));
    else if (problem && options_.on_invalid == InvalidMode::Quote)
      add_quoted(block, text, span_lines_[i]);
    else if (problem)
      reject(block, span_lines_[i], *problem);
    else
      block.records.push_back({text, span_lines_[i]});
  }
}

void InputReader::reject(InputBlock& block, uint64_t line, std::string_view reason) {
  ++block.invalid;
  std::string message = fmt::format("{}: {}", where(line), reason);
  if (options_.on_invalid == InvalidMode::Fail) {
    diag::error(message);
    status_ = combine(status_, ExitStatus::StoppedAtInvalid);
    done_ = true;
  } else {
    diag::line_problem(message);
    status_ = combine(status_, ExitStatus::InvalidSkipped);
  }
}

void InputReader::add_quoted(InputBlock& block, std::string_view text, uint64_t line) {
  std::string& quoted = block.quoted.emplace_back();
  size_t replaced = append_json_quoted(text, quoted);
  if (quoted.size() > options_.max_record) {
    uint64_t size = quoted.size();
    block.quoted.pop_back();
    reject(block, line, fmt::format("record of {} bytes exceeds --max-bytes once quoted", size));
    return;
  }
  if (replaced)
    diag::line_problem(fmt::format("{}: invalid UTF-8 replaced with U+FFFD ({} times)", where(line), replaced));
  block.records.push_back({quoted, line});
}

}  // namespace batchpipe
