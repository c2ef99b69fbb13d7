#include "spool/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/diagnostics.h"

namespace batchpipe {
namespace {

constexpr const char* kStateName = "state";
constexpr std::string_view kStateMagic = "batchpipe-spool 1 ";

uint64_t random_key() {
  uint64_t key = 0;
  while (::getrandom(&key, sizeof key, 0) < 0 && errno == EINTR) {
  }
  return key ? key : 1;
}

/// Why `dir` (already open) must not hold our records, or "".
std::string dir_problem(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return std::strerror(errno);
  if (st.st_uid != ::geteuid())
    return fmt::format("it belongs to another user (uid {}, not {}): choose a directory of your own", st.st_uid,
                       ::geteuid());
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    return fmt::format("its mode {:04o} lets others change the records: chmod 700 it", st.st_mode & 07777);
  return "";
}

}  // namespace

std::string format_spool_state(uint64_t key, uint64_t committed) {
  return fmt::format("{}{:016x} {:020}\n", kStateMagic, key, committed);
}

bool parse_spool_state(std::string_view text, uint64_t& key, uint64_t& committed) {
  if (text.size() != format_spool_state(0, 0).size() || !text.starts_with(kStateMagic) || text.back() != '\n')
    return false;
  std::string_view k = text.substr(kStateMagic.size(), 16), c = text.substr(kStateMagic.size() + 17, 20);
  if (text[kStateMagic.size() + 16] != ' ') return false;
  uint64_t kv = 0, cv = 0;
  for (char ch : k) {
    int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
    if (d < 0) return false;
    kv = kv << 4 | static_cast<uint64_t>(d);
  }
  for (char ch : c) {
    if (ch < '0' || ch > '9') return false;
    uint64_t d = static_cast<uint64_t>(ch - '0');
    if (cv > (UINT64_MAX - d) / 10) return false;
    cv = cv * 10 + d;
  }
  key = kv;
  committed = cv;
  return true;
}

std::unique_ptr<Spool> Spool::open(const std::string& dir, uint64_t max_bytes, uint64_t segment_bytes,
                                   std::string& error) {
  std::unique_ptr<Spool> s(new Spool());
  s->dir_ = dir;
  s->max_bytes_ = max_bytes;
  s->segment_bytes_ = segment_bytes;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    error = fmt::format("--spool: cannot create {}: {}", dir, std::strerror(errno));
    return nullptr;
  }
  // O_NOFOLLOW: a link planted under DIR's name is refused, not followed.
  s->dir_fd_.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!s->dir_fd_) {
    error = fmt::format("--spool: cannot open {}: {}", dir,
                        errno == ELOOP || errno == ENOTDIR ? "not a directory (a symbolic link is not followed)"
                                                           : std::strerror(errno));
    return nullptr;
  }
  if (std::string why = dir_problem(s->dir_fd_.get()); !why.empty()) {
    error = fmt::format("--spool: {}: {}", dir, why);
    return nullptr;
  }
  s->state_fd_.reset(::openat(s->dir_fd_.get(), kStateName, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!s->state_fd_) {
    error = fmt::format("--spool: cannot open {}/{}: {}", dir, kStateName, std::strerror(errno));
    return nullptr;
  }
  struct stat st {};
  if (::fstat(s->state_fd_.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
    error = fmt::format("--spool: {}/{} is not a file of ours: remove it", dir, kStateName);
    return nullptr;
  }
  if (::flock(s->state_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    error = errno == EWOULDBLOCK
                ? fmt::format("--spool: {} is in use by another batchpipe run; give each run a spool of its own", dir)
                : fmt::format("--spool: cannot lock {}/{}: {}", dir, kStateName, std::strerror(errno));
    return nullptr;
  }
  char text[128];
  ssize_t n = ::pread(s->state_fd_.get(), text, sizeof text, 0);
  uint64_t committed = 0;
  if (n <= 0 || !parse_spool_state(std::string_view(text, static_cast<size_t>(n)), s->key_, committed)) {
    if (n > 0) diag::warning(fmt::format("--spool: {}/{} is damaged: the spool's records get new ids and are all "
                                         "sent again", dir, kStateName));
    s->key_ = random_key();
    committed = 0;
  }
  // The segments: names and sizes only.
  int list_fd = ::dup(s->dir_fd_.get());
  DIR* d = list_fd >= 0 ? ::fdopendir(list_fd) : nullptr;
  if (!d) {
    if (list_fd >= 0) ::close(list_fd);
    error = fmt::format("--spool: cannot list {}: {}", dir, std::strerror(errno));
    return nullptr;
  }
  std::vector<SegmentSpan> found;
  std::vector<std::chrono::system_clock::time_point> mtimes;  // its last write: its records are at least as old
  while (dirent* e = ::readdir(d)) {
    auto base = parse_segment_name(e->d_name);
    if (!base) continue;
    struct stat seg {};
    if (::fstatat(s->dir_fd_.get(), e->d_name, &seg, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(seg.st_mode)) {
      diag::warning(fmt::format("--spool: {}/{}: not a regular file: ignored", dir, e->d_name));
      continue;
    }
    if (seg.st_size == 0) {  // a segment created just before a crash: nothing to read
      (void)::unlinkat(s->dir_fd_.get(), e->d_name, 0);
      continue;
    }
    found.push_back({*base, static_cast<uint64_t>(seg.st_size)});
    mtimes.push_back(std::chrono::system_clock::time_point(std::chrono::seconds(seg.st_mtim.tv_sec)));
  }
  ::closedir(d);
  std::vector<size_t> order(found.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return found[a].base < found[b].base; });
  std::vector<SegmentSpan> sorted;
  for (size_t i : order) sorted.push_back(found[i]);
  s->read_from_ = first_read_offset(sorted, committed);
  s->write_from_ = next_write_offset(sorted, committed);
  s->committed_ = committed;
  for (size_t i : order) {
    s->segments_.push_back({found[i].base, found[i].size, found[i].size, true});
    s->bytes_ += found[i].size;
    s->marks_.push_back({found[i].end(), mtimes[i]});
  }
  s->news_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!s->news_fd_) {
    error = fmt::format("--spool: eventfd: {}", std::strerror(errno));
    return nullptr;
  }
  s->delete_front(committed);  // committed, but the run ended before it deleted them
  s->save_state();  // a spool that cannot be written is found now, not after the first record
  (void)::fdatasync(s->state_fd_.get());
  if (s->state_error_said_) {
    error = fmt::format("--spool: cannot write {}/{}", dir, kStateName);
    return nullptr;
  }
  return s;
}

Spool::~Spool() = default;

std::string Spool::path_of(uint64_t base) const { return fmt::format("{}/{}", dir_, segment_name(base)); }

void Spool::begin_segment(uint64_t base) {
  std::lock_guard lock(mutex_);
  segments_.push_back({base, 0, 0, false});
}

void Spool::forget_empty(uint64_t base) {
  std::lock_guard lock(mutex_);
  if (!segments_.empty() && segments_.back().base == base && segments_.back().size == 0) segments_.pop_back();
}

void Spool::grew(uint64_t size) {
  std::lock_guard lock(mutex_);
  Segment& s = segments_.back();
  bytes_ += size - s.size;
  s.size = size;
}

void Spool::synced(uint64_t base, uint64_t size, bool closed) {
  {
    std::lock_guard lock(mutex_);
    for (auto s = segments_.rbegin(); s != segments_.rend(); ++s) {
      if (s->base != base) continue;
      s->synced = std::max(s->synced, size);
      s->closed = s->closed || closed;
      break;
    }
    mark(base + size, std::chrono::system_clock::now());
  }
  wake_reader();
}

void Spool::writer_done() {
  {
    std::lock_guard lock(mutex_);
    writer_done_ = true;
    if (!segments_.empty()) segments_.back().closed = true;  // the writer synced it whole first
  }
  wake_reader();
}

uint64_t Spool::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

bool Spool::wait_for_room(uint64_t need, int stop_fd, Duration timeout) {
  // Waits in short steps so that the stop latch is looked at too.
  TimePoint until = Clock::now() + timeout;
  std::unique_lock lock(mutex_);
  for (;;) {
    if (bytes_ + need <= max_bytes_) return true;
    if (Clock::now() >= until) return false;
    pollfd p{stop_fd, POLLIN, 0};
    if (stop_fd >= 0 && ::poll(&p, 1, 0) > 0) return false;
    room_.wait_for(lock, std::chrono::milliseconds(50));
  }
}

void Spool::take_news() {
  uint64_t count;
  (void)!::read(news_fd_.get(), &count, sizeof count);
}

void Spool::wake_reader() {
  uint64_t one = 1;
  (void)!::write(news_fd_.get(), &one, sizeof one);
}

std::optional<SegmentView> Spool::segment_at(uint64_t at) const {
  std::lock_guard lock(mutex_);
  for (const Segment& s : segments_)
    if (!s.closed || s.base + s.size > at) return SegmentView{s.base, s.synced, s.closed && s.synced == s.size};
  return std::nullopt;
}

bool Spool::writer_finished() const {
  std::lock_guard lock(mutex_);
  return writer_done_;
}

void Spool::delete_front(uint64_t upto) {
  std::vector<uint64_t> doomed;
  {
    std::lock_guard lock(mutex_);
    size_t n = 0;
    while (n < segments_.size() && segments_[n].closed && segments_[n].base + segments_[n].size <= upto) {
      doomed.push_back(segments_[n].base);
      bytes_ -= segments_[n].size;
      ++n;
    }
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<long>(n));
  }
  if (doomed.empty()) return;
  for (uint64_t base : doomed)
    if (::unlinkat(dir_fd_.get(), segment_name(base).c_str(), 0) != 0 && errno != ENOENT)
      diag::warning(fmt::format("--spool: cannot delete {}: {}", path_of(base), std::strerror(errno)));
  room_.notify_all();
}

void Spool::mark(uint64_t end, std::chrono::system_clock::time_point when) {
  constexpr size_t kMaxMarks = 4096;
  if (!marks_.empty() && marks_.back().end >= end) return;
  if (marks_.size() >= 2 && when - marks_[marks_.size() - 2].when < std::chrono::seconds(1)) {
    marks_.back() = {end, when};  // later, so still true: one mark a second
    return;
  }
  marks_.push_back({end, when});
  if (marks_.size() > kMaxMarks) {
    // The later of each pair stays: a record's age is then said a little short, never too long.
    std::deque<Mark> half;
    for (size_t i = 1; i < marks_.size(); i += 2) half.push_back(marks_[i]);
    if (half.back().end != marks_.back().end) half.push_back(marks_.back());
    marks_ = std::move(half);
  }
}

void Spool::committed(uint64_t end) {
  if (frozen_ || end <= committed_) return;
  committed_ = end;
  {
    std::lock_guard lock(mutex_);
    while (!marks_.empty() && marks_.front().end <= committed_) marks_.pop_front();
  }
  delete_front(committed_);
  save_state();
}

void Spool::finish(bool drained) {
  if (drained && !frozen_) {
    uint64_t end = committed_;
    {
      std::lock_guard lock(mutex_);
      for (const Segment& s : segments_)
        if (s.closed) end = std::max(end, s.base + s.size);
    }
    committed_ = end;
    delete_front(end);
  }
  save_state();
  (void)::fdatasync(state_fd_.get());
}

void Spool::save_state() {
  std::string line = format_spool_state(key_, committed_);
  if (::pwrite(state_fd_.get(), line.data(), line.size(), 0) == static_cast<ssize_t>(line.size())) return;
  if (!state_error_said_)
    diag::warning(fmt::format("--spool: cannot write {}/{}: {}; a restart sends committed records again", dir_,
                              kStateName, std::strerror(errno)));
  state_error_said_ = true;
}

Spool::Figures Spool::figures(std::chrono::system_clock::time_point now) const {
  std::lock_guard lock(mutex_);
  Figures f{segments_.size(), bytes_, 0};
  // The first mark past what is committed: the oldest record left was on disk by then.
  for (const Mark& m : marks_)
    if (m.end > committed_) {
      f.oldest_seconds =
          std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(now - m.when).count());
      break;
    }
  return f;
}

}  // namespace batchpipe
