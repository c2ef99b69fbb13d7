#include "input/line_framer.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "base/memory.h"

namespace batchpipe {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

}  // namespace

void LineFramer::restart(uint64_t offset, uint64_t line) {
  consumed_ = offset;
  line_ = line;
  carry_.clear();
  discarding_ = false;
  discard_line_ = discard_size_ = discard_blanks_ = 0;
}

void LineFramer::begin(InputBlock& block, size_t block_size, size_t at_most) {
  block.offset = consumed_;
  block.skew = 0;
  block.framed = 0;
  // A carried partial line that fills the buffer grows it in space();
  // otherwise buffers keep one size, so the allocator is not asked for
  // ever-new sizes.
  size_t want = std::max(block_size, carry_.size()) + kValidatorPadding;
  size_t largest = std::min(4 * want, std::max(want, at_most == SIZE_MAX ? at_most : at_most + kValidatorPadding));
  if (block.buffer.size() < want || block.buffer.size() > largest)
    block.buffer = ByteBuffer(want);  // also gives back what a giant line took
  used_ = carry_.size();
  limit_ = want - kValidatorPadding;
  if (carry_.capacity() >= kMappedBytes) {
    // A long partial line is moved a piece at a time, each piece's pages
    // given back as it goes, and its buffer freed: never held twice.
    constexpr size_t kPiece = 1 << 20;
    for (size_t at = 0; at < used_; at += kPiece) {
      size_t n = std::min(kPiece, used_ - at);
      std::memcpy(block.buffer.data() + at, carry_.data() + at, n);
      release_pages(carry_.data() + at, n);
    }
    std::string().swap(carry_);
  } else {
    std::memcpy(block.buffer.data(), carry_.data(), used_);
    carry_.clear();
  }
  // Whole lines carried over (a block frames a bounded number) are framed
  // before anything more is read, so the carry cannot grow.
  have_line_ = std::memchr(block.buffer.data(), '\n', used_) != nullptr;
  holding_ = false;
  held_blanks_ = 0;
}

size_t LineFramer::line_start(const InputBlock& block) const {
  const char* buf = block.buffer.data();
  size_t start = line_ == 0 && std::string_view(buf, used_).starts_with(kBom) ? kBom.size() : 0;
  if (line_ == 0 && start == 0 && used_ > 0 && is_blank(buf[0])) start = 1;
  return start;
}

void LineFramer::dropped_all(InputBlock& block) const {
  block.offset = consumed_ + block.input_bytes;
  block.skew = 0;
}

void LineFramer::count_discarded(const char* p, size_t n) {
  const char* q = p + n;
  while (q > p && is_blank(q[-1])) --q;
  if (q == p) {
    discard_blanks_ += n;
    return;
  }
  discard_size_ += discard_blanks_ + static_cast<uint64_t>(q - p);
  discard_blanks_ = static_cast<uint64_t>(p + n - q);
}

void LineFramer::start_discarding(InputBlock& block, uint64_t size, uint64_t blanks) {
  discarding_ = true;
  discard_line_ = line_ + 1;
  discard_size_ = size;
  discard_blanks_ = blanks;
  block.input_bytes += used_;
  dropped_all(block);
  used_ = 0;
}

size_t LineFramer::growth(const InputBlock& block) const {
  size_t cap = block.buffer.size() - kValidatorPadding;
  if (used_ < cap || have_line_ || cap >= max_record_ + kFramerSlack) return 0;
  return std::min<uint64_t>(cap * 2, max_record_ + kFramerSlack) - cap;
}

std::span<char> LineFramer::space(InputBlock& block) {
  for (;;) {
    char* buf = block.buffer.data();
    size_t cap = block.buffer.size() - kValidatorPadding;
    size_t limit = std::min(limit_, cap);
    if (used_ < limit || have_line_) return {buf + used_, used_ < limit ? limit - used_ : 0};
    if (limit < cap) {
      limit_ = SIZE_MAX;  // one line is longer than the bytes asked for: the buffer holds more anyway
      continue;
    }
    // One line fills the whole buffer. Blanks before it are trimmed anyway.
    size_t start = line_start(block);
    size_t first = start;
    while (first < used_ && is_blank(buf[first])) ++first;
    if (first > start) {
      std::memmove(buf + start, buf + first, used_ - first);
      block.input_bytes += first - start;
      block.skew += first - start;
      used_ -= first - start;
      continue;
    }
    // Keep it if it may still fit a record.
    if (cap < max_record_ + kFramerSlack) {
      block.buffer.resize(std::min<uint64_t>(cap * 2, max_record_ + kFramerSlack) + kValidatorPadding);
      continue;
    }
    size_t content_end = used_;
    while (content_end > start && is_blank(buf[content_end - 1])) --content_end;
    if (content_end - start <= max_record_) {
      // Its content fits, and blanks follow: drop those and see whether
      // only blanks come until the end of the line (see fed()).
      holding_ = true;
      held_blanks_ = used_ - content_end;
      block.input_bytes += held_blanks_;
      block.skew += held_blanks_;
      used_ = content_end;
      continue;
    }
    start_discarding(block, content_end - start, used_ - content_end);
  }
}

void LineFramer::fed(InputBlock& block, size_t got) {
  char* buf = block.buffer.data();
  char* fresh = buf + used_;
  if (holding_) {
    size_t blanks = 0;
    while (blanks < got && is_blank(fresh[blanks])) ++blanks;
    if (blanks == got) {
      held_blanks_ += got;
      block.input_bytes += got;
      block.skew += got;
      return;
    }
    holding_ = false;
    if (fresh[blanks] == '\n') {
      // Only blanks after the content: the line ends, with a record that fits.
      std::memmove(fresh, fresh + blanks, got - blanks);
      block.input_bytes += blanks;
      block.skew += blanks;
      got -= blanks;
    } else {
      // More content after the dropped blanks, which were inside the
      // record after all: too big (content and blanks filled the buffer).
      start_discarding(block, used_ - line_start(block), held_blanks_);
      std::memmove(buf, fresh, got);
      fresh = buf;
    }
  }
  if (discarding_) {
    char* nl = static_cast<char*>(std::memchr(fresh, '\n', got));
    size_t part = nl ? static_cast<size_t>(nl - fresh) : got;
    count_discarded(fresh, part);
    block.input_bytes += part + (nl ? 1 : 0);
    dropped_all(block);
    if (!nl) return;
    discarding_ = false;
    ++line_;
    ++block.line_count;
    block.oversized.push_back({discard_line_, discard_size_});
    size_t rest = static_cast<size_t>(fresh + got - (nl + 1));
    std::memmove(buf + used_, nl + 1, rest);
    got = rest;
    fresh = buf + used_;
  }
  have_line_ = have_line_ || std::memchr(fresh, '\n', got) != nullptr;
  used_ += got;
}

void LineFramer::end_of_input(InputBlock& block) {
  if (!discarding_) return;
  discarding_ = false;
  ++line_;
  ++block.line_count;
  block.oversized.push_back({discard_line_, discard_size_});
}

void LineFramer::frame(InputBlock& block, size_t max_lines) {
  const char* buf = block.buffer.data();
  const char* nl = static_cast<const char*>(::memrchr(buf, '\n', used_));
  size_t end = nl ? static_cast<size_t>(nl - buf) + 1 : 0;
  close_block(block, frame_upto(block, end, max_lines));
}

size_t LineFramer::finish(InputBlock& block, bool whole) {
  const char* buf = block.buffer.data();
  size_t end = used_;
  if (!whole) {
    const char* nl = static_cast<const char*>(::memrchr(buf, '\n', used_));
    end = nl ? static_cast<size_t>(nl - buf) + 1 : 0;
  }
  end = frame_upto(block, end, SIZE_MAX);
  bool partial = std::any_of(buf + end, buf + used_, [](char ch) { return !is_blank(ch); });
  size_t cut = partial ? used_ - end : 0;
  close_block(block, end);
  carry_.clear();
  return cut;
}

void LineFramer::close_block(InputBlock& block, size_t end) {
  carry_.assign(block.buffer.data() + end, used_ - end);
  // Nothing reads the block past its framed lines (and their padding):
  // a long partial line's pages there go back at once.
  if (carry_.size() >= kMappedBytes) release_pages(block.buffer.data() + end + kValidatorPadding, used_ - end);
  block.framed = static_cast<uint32_t>(end);
  block.end_line = line_;
  consumed_ += block.input_bytes;
}

size_t LineFramer::frame_upto(InputBlock& block, size_t end, size_t max_lines) {
  const char* buf = block.buffer.data();
  block.first_line = line_ + 1;
  size_t pos = 0;
  for (size_t framed = 0; pos < end && framed < max_lines; ++framed) {
    const char* nl = static_cast<const char*>(std::memchr(buf + pos, '\n', end - pos));
    size_t line_end = nl ? static_cast<size_t>(nl - buf) : end;
    ++line_;
    ++block.line_count;
    size_t s = pos, e = line_end;
    if (line_ == 1 && e - s >= kBom.size() && std::string_view(buf + s, kBom.size()) == kBom) s += kBom.size();
    if (text_) {
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

}  // namespace batchpipe
