#include "spool/spool_writer.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/diagnostics.h"
#include "input/input_reader.h"
#include "json/line_checker.h"
#include "spool/spool.h"

namespace batchpipe {
namespace {

/// Records are written in pieces of about this size.
constexpr size_t kWriteBytes = 256 << 10;
/// A sync comes sooner than --spool-sync once this much is waiting for one:
/// the reader, which reads only what is synced, then never lags far behind.
constexpr uint64_t kSyncBytes = 4 << 20;

void say(const std::vector<InputNote>& notes) {
  for (const InputNote& n : notes) n.error ? diag::error(n.text) : diag::warning(n.text);
}

}  // namespace

SpoolWriter::SpoolWriter(Spool& spool, const Config& config, const RecordLimit& limit, int stop_fd, Metrics& metrics)
    : spool_(spool),
      config_(config),
      limit_(limit),
      stop_fd_(stop_fd),
      metrics_(metrics),
      drop_(config.drop_when_full),
      next_base_(spool.write_from()) {}

SpoolWriter::~SpoolWriter() {
  if (reader_thread_.joinable()) join();
}

void SpoolWriter::start() {
  reader_thread_ = std::thread([this] { run(); });
  sync_thread_ = std::thread([this] { sync_loop(); });
}

ExitStatus SpoolWriter::join() {
  if (reader_thread_.joinable()) reader_thread_.join();
  if (sync_thread_.joinable()) sync_thread_.join();
  return status_;
}

bool SpoolWriter::stopped() const {
  pollfd p{stop_fd_, POLLIN, 0};
  return stop_fd_ >= 0 && ::poll(&p, 1, 0) > 0;
}

void SpoolWriter::run() {
  InputReader reader({config_.inputs, limit_.line, 1 << 20, config_.text_input, false, {}}, stop_fd_);
  LineChecker checker(config_.on_invalid, limit_, config_.inputs, config_.text_input);
  InputBlock block;
  bool go_on = true;
  while (go_on && reader.next(block)) {
    say(block.notes_before);
    status_ = combine(status_, block.status_before);
    uint64_t rejected = checker.rejected(), replaced = checker.replaced();
    bool more = checker.check(block, [&](std::string_view text, uint64_t, const LineSpan&) {
      if (go_on) go_on = append(text);
    });
    metrics_.invalid.add(checker.rejected() - rejected);
    metrics_.replaced.add(checker.replaced() - replaced);
    if (!more) break;  // --on-invalid fail: the records before the line are spooled
    say(block.notes_after);
    status_ = combine(status_, block.status_after);
    if (go_on) go_on = flush();
  }
  if (go_on) flush();
  if (!reader.unfinished().empty()) diag::warning(reader.unfinished());
  close_segment();
  status_ = combine(status_, checker.status());
  if (dropped_)
    diag::warning(fmt::format("--spool-max was full: {} record{} dropped (--on-full drop)", dropped_,
                              dropped_ == 1 ? "" : "s"));
  lost_ += buffered_records_;
  if (lost_) {
    diag::warning(fmt::format("--spool: {} record{} read when the run stopped could not be spooled (the spool was "
                              "full): they are lost",
                              lost_, lost_ == 1 ? "" : "s"));
    metrics_.undelivered.add(lost_);
    status_ = combine(status_, ExitStatus::Undelivered);
  }
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  wake_.notify_all();
  spool_.writer_done();
}

bool SpoolWriter::append(std::string_view record) {
  uint64_t need = record.size() + 1;
  // A new segment once this one is large enough (a record larger than a segment has one of its own).
  if (fd_ && size_ + buffer_.size() + need > spool_.segment_bytes() && size_ + buffer_.size() > 0) {
    if (!flush()) return false;
    close_segment();
  }
  if (spool_.bytes() + buffer_.size() + need > spool_.max_bytes()) {
    if (!flush()) return false;
    if (spool_.bytes() + need > spool_.max_bytes()) {
      if (drop_) {
        full(need, "");
        return true;
      }
      if (size_ > 0) close_segment();  // its records can then be deleted once delivered, which makes the room
      while (!spool_.wait_for_room(need, stop_fd_, std::chrono::seconds(1)))
        if (stopped()) {
          ++lost_;
          return false;
        }
    }
  }
  ++buffered_records_;
  if (need >= kWriteBytes) return flush(record);  // a long record is not held twice
  buffer_.append(record);
  buffer_.push_back('\n');
  return buffer_.size() < kWriteBytes || flush();
}

bool SpoolWriter::full(uint64_t, std::string_view) {
  ++dropped_;
  metrics_.dropped.add();
  TimePoint now = Clock::now();
  if (now >= next_drop_note_) {
    next_drop_note_ = now + std::chrono::seconds(1);
    diag::warning(fmt::format("--spool-max is full: {} record{} dropped so far (--on-full drop)", dropped_,
                              dropped_ == 1 ? "" : "s"));
  }
  return true;
}

bool SpoolWriter::open_segment() {
  std::string name = segment_name(next_base_);
  int fd = ::openat(spool_.dir_fd(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_APPEND,
                    0600);
  if (fd < 0) return false;
  (void)::fsync(spool_.dir_fd());  // the new name survives a power loss
  spool_.begin_segment(next_base_);
  std::lock_guard lock(mutex_);
  fd_ = std::make_shared<UniqueFd>(fd);
  base_ = next_base_;
  size_ = synced_ = 0;
  return true;
}

bool SpoolWriter::flush(std::string_view record) {
  static constexpr char kNewline = '\n';
  while (!buffer_.empty() || !record.empty()) {
    size_t total = buffer_.size() + (record.empty() ? 0 : record.size() + 1);
    if (!fd_ && !open_segment()) {
      if (errno != ENOSPC && errno != EDQUOT && errno != EMFILE && errno != ENFILE) {
        diag::error(fmt::format("--spool: cannot create {}: {}", spool_.path_of(next_base_), std::strerror(errno)));
      }
    } else if (fd_) {
      const std::string_view pieces[3] = {buffer_, record, record.empty() ? std::string_view() : std::string_view(&kNewline, 1)};
      size_t done = 0;
      int error = 0;
      while (done < total) {
        iovec iov[3];
        int count = 0;
        size_t skip = done;
        for (std::string_view p : pieces) {
          if (skip >= p.size()) {
            skip -= p.size();
            continue;
          }
          iov[count++] = {const_cast<char*>(p.data() + skip), p.size() - skip};
          skip = 0;
        }
        ssize_t n = ::writev(fd_->get(), iov, count);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          error = n < 0 ? errno : ENOSPC;
          break;
        }
        done += static_cast<size_t>(n);
      }
      if (done == total) {
        {
          std::lock_guard lock(mutex_);
          size_ += done;
          if (size_ - synced_ >= kSyncBytes) wake_.notify_all();
        }
        spool_.grew(size_);
        buffer_.clear();
        buffered_records_ = 0;
        return true;
      }
      // Whatever part of the records was written goes: a segment holds whole lines only.
      (void)!::ftruncate(fd_->get(), static_cast<off_t>(size_));
      if (size_ > 0) close_segment();  // deletable once delivered: that makes the room
      if (error != ENOSPC && error != EDQUOT && !said_disk_full_)
        diag::error(fmt::format("--spool: cannot write {}: {}", spool_.path_of(base_), std::strerror(error)));
      errno = error;
    }
    // The disk is full (or the spool cannot be written): as --spool-max being full.
    if (!said_disk_full_ && (errno == ENOSPC || errno == EDQUOT))
      diag::warning(fmt::format("--spool: {}: {}; {}", spool_.dir(), std::strerror(errno),
                                drop_ ? "dropping new records until there is room (--on-full drop)"
                                      : "reading waits until there is room (--on-full block)"));
    said_disk_full_ = true;
    if (drop_) {
      for (uint64_t i = 0; i < buffered_records_; ++i) full(0, "");
      buffer_.clear();
      buffered_records_ = 0;
      return true;
    }
    (void)spool_.wait_for_room(spool_.max_bytes(), stop_fd_, std::chrono::seconds(1));  // a commit, or a second
    if (stopped()) return false;
  }
  return true;
}

void SpoolWriter::close_segment() {
  std::shared_ptr<UniqueFd> fd;
  uint64_t base, size;
  {
    std::lock_guard lock(mutex_);
    if (fd_ && size_ == 0) {  // nothing in it: it goes, and its name is free again
      (void)::unlinkat(spool_.dir_fd(), segment_name(base_).c_str(), 0);
      spool_.forget_empty(base_);
      fd_.reset();
      return;
    }
    fd = std::move(fd_);
    base = base_;
    size = size_;
  }
  if (!fd) return;
  if (::fdatasync(fd->get()) != 0)
    diag::error(fmt::format("--spool: cannot sync {}: {}", spool_.path_of(base), std::strerror(errno)));
  spool_.synced(base, size, true);
  next_base_ = base + size;
}

void SpoolWriter::sync_loop() {
  std::unique_lock lock(mutex_);
  while (!done_) {
    wake_.wait_for(lock, config_.spool_sync, [&] { return done_ || (fd_ && size_ - synced_ >= kSyncBytes); });
    if (!fd_ || size_ == synced_) continue;
    std::shared_ptr<UniqueFd> fd = fd_;
    uint64_t base = base_, size = size_;
    lock.unlock();
    int rc = ::fdatasync(fd->get());  // all written before it, in one go: the group commit
    lock.lock();
    if (rc != 0) continue;
    if (fd_ == fd) synced_ = size;
    spool_.synced(base, size, false);
  }
}

}  // namespace batchpipe
