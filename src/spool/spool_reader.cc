#include "spool/spool_reader.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "input/input_reader.h"
#include "spool/spool.h"

namespace batchpipe {

SpoolReader::SpoolReader(Spool& spool, size_t block_size, uint64_t max_record, int stop_fd)
    : spool_(spool), block_size_(block_size), stop_fd_(stop_fd), framer_(max_record, false), pos_(spool.read_from()) {}

void SpoolReader::missing(uint64_t from, uint64_t to) {
  pending_.push_back({true, fmt::format("--spool: bytes {}-{} of the spool are missing before {} (a segment deleted, "
                                        "emptied or cut short, e.g. by a crash): their records are lost",
                                        from, to, spool_.path_of(to))});
  status_ = ExitStatus::InvalidSkipped;
}

bool SpoolReader::stop_raised() const {
  pollfd p{stop_fd_, POLLIN, 0};
  return stop_fd_ >= 0 && ::poll(&p, 1, 0) > 0;
}

bool SpoolReader::wait() {
  pollfd fds[2] = {{spool_.news_fd(), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  while (::poll(fds, stop_fd_ >= 0 ? 2 : 1, -1) < 0 && errno == EINTR) {
  }
  if (stop_fd_ >= 0 && fds[1].revents) return false;
  spool_.take_news();
  return true;
}

bool SpoolReader::open_segment() {
  for (;;) {
    bool finished = spool_.writer_finished();  // before the look: a segment it adds after is seen next time
    std::optional<SegmentView> seg = spool_.segment_at(pos_);
    if (!seg) {
      if (finished) {
        drained_ = true;
        return false;
      }
      if (!wait()) return false;
      continue;
    }
    // Segments are written back to back and deleted from the front only: a
    // hole between two is damage. (Before the first, the state file may lag
    // the deletions a kill -9 interrupted: no hole can be told there.)
    if (seg->base > pos_ && pos_ != spool_.read_from()) missing(pos_, seg->base);
    int fd = ::openat(spool_.dir_fd(), segment_name(seg->base).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      // Gone (deleted by hand) or unreadable: said in the next block; the rest is read.
      pending_.push_back({true, fmt::format("--spool: cannot read {}: {}; its records are skipped",
                                            spool_.path_of(seg->base), std::strerror(errno))});
      pos_ = seg->base + std::max<uint64_t>(seg->readable, 1);
      continue;
    }
    fd_.reset(fd);
    base_ = seg->base;
    read_ = pos_ > base_ ? pos_ - base_ : 0;  // a run that committed part of it resumes there
    // Line numbers go on from segment to segment: they count the lines this run read back.
    framer_.restart(base_ + read_, framer_.line());
    return true;
  }
}

bool SpoolReader::next(InputBlock& block) {
  while (!done_) {
    block.lines.clear();
    block.oversized.clear();
    block.notes_before.clear();
    block.notes_after.clear();
    block.problems.clear();
    block.validated = false;
    block.status_before = block.status_after = ExitStatus::Success;
    block.input_bytes = block.line_count = 0;
    block.identity = FileIdentity{};
    block.begins = false;
    block.input = 0;
    if (stop_raised() || (!fd_ && !open_segment())) {
      done_ = true;
      if (!pending_.empty()) break;
      return false;
    }
    framer_.begin(block, block_size_);
    bool ended = false;
    for (;;) {
      std::span<char> room = framer_.space(block);
      if (room.empty()) break;
      std::optional<SegmentView> seg = spool_.segment_at(base_);
      uint64_t readable = seg && seg->base == base_ ? seg->readable : read_;
      bool closed = !seg || seg->base != base_ || seg->closed;
      if (read_ < readable) {
        ssize_t n = ::pread(fd_.get(), room.data(), std::min<uint64_t>(room.size(), readable - read_),
                            static_cast<off_t>(read_));
        if (n < 0 && errno == EINTR) continue;
        if (n > 0) {
          framer_.fed(block, static_cast<size_t>(n));
          read_ += static_cast<uint64_t>(n);
          continue;
        }
        pending_.push_back({true, fmt::format("--spool: {}: {} at byte {}; the rest of it is skipped",
                                              spool_.path_of(base_), n < 0 ? std::strerror(errno) : "shorter than expected",
                                              read_)});
        status_ = ExitStatus::InvalidSkipped;
        closed = true;
        readable = read_;
      }
      if (read_ >= readable && closed) {  // the segment's end
        size_t cut = framer_.finish(block, false);
        if (cut)
          pending_.push_back({false, fmt::format("--spool: {}: bytes {}-{} are a line cut short (a torn write): "
                                                 "skipped",
                                                 spool_.path_of(base_), read_ - cut, read_)});
        if (cut) status_ = ExitStatus::InvalidSkipped;
        pos_ = base_ + read_;
        fd_.reset();
        ended = true;
        break;
      }
      if (framer_.has_line()) break;
      if (!wait()) {  // a stop: the whole lines read so far still go
        framer_.finish(block, false);
        done_ = true;
        ended = true;
        break;
      }
    }
    if (!ended) framer_.frame(block, kMaxLinesPerBlock);
    drop_damage(block);
    for (InputNote& n : pending_) block.notes_after.push_back(std::move(n));
    pending_.clear();
    block.status_after = std::exchange(status_, ExitStatus::Success);
    if (!block.lines.empty() || !block.notes_after.empty() || !block.oversized.empty()) return true;
  }
  if (pending_.empty()) return false;
  for (InputNote& n : pending_) block.notes_after.push_back(std::move(n));
  pending_.clear();
  block.status_after = std::exchange(status_, ExitStatus::Success);
  return true;
}

void SpoolReader::drop_damage(InputBlock& block) {
  block.validated = true;
  if (block.lines.empty()) return;
  problems_.clear();
  validator_.validate(block.buffer.data(), block.buffer.size() - kValidatorPadding, block.lines, problems_);
  if (problems_.empty()) return;
  std::vector<LineSpan> kept;
  kept.reserve(block.lines.size());
  auto problem = problems_.begin();
  for (size_t i = 0; i < block.lines.size(); ++i) {
    if (problem == problems_.end() || problem->index != i) {
      kept.push_back(block.lines[i]);
      continue;
    }
    // A run of damaged lines is one message.
    uint64_t from = block.line_offset(block.lines[i]) - base_, to = block.line_end(block.lines[i]) - base_;
    std::string reason = problem->reason;
    while (++problem != problems_.end() && problem->index == i + 1) to = block.line_end(block.lines[++i]) - base_;
    pending_.push_back({false, fmt::format("--spool: {}: bytes {}-{} are not JSON records (damaged: {}): skipped",
                                           spool_.path_of(base_), from, to, reason)});
    status_ = ExitStatus::InvalidSkipped;
  }
  block.lines = std::move(kept);
}

}  // namespace batchpipe
