#include "input/follower.h"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

namespace batchpipe {

Follower::Follower(int stop_fd) : stop_fd_(stop_fd) {
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);  // without it, the slow stat poll alone
}

Follower::~Follower() {
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

void Follower::watch(const std::string& path) {
  if (inotify_fd_ < 0) return;
  // The directory, not the file: it also tells of files created, renamed or removed.
  std::string dir = std::filesystem::path(path).parent_path().string();
  (void)::inotify_add_watch(inotify_fd_, dir.empty() ? "." : dir.c_str(),
                            IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB |
                                IN_CLOSE_WRITE);
}

bool Follower::wait(const std::vector<int>& fds, int timeout_ms) {
  std::vector<pollfd> polled = {{stop_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
  for (int fd : fds) polled.push_back({fd, POLLIN, 0});
  int ready = ::poll(polled.data(), polled.size(), timeout_ms < 0 ? kPollMs : std::min(timeout_ms, kPollMs));
  if (ready < 0 && errno != EINTR) return true;
  if (polled[0].revents) return false;
  if (polled[1].revents) {
    char events[4096];  // which file does not matter: each gets one read
    while (::read(inotify_fd_, events, sizeof events) > 0) {
    }
  }
  return true;
}

FileNews Follower::look(const std::string& path, int fd, bool by_offset, const FileIdentity* print) {
  struct stat by_name {}, open {};
  FileNews news;
  if (::fstat(fd, &open) != 0) return {FileNews::Unknown};
  news.size = static_cast<uint64_t>(open.st_size);
  news.deleted = open.st_nlink == 0;
  off_t at = ::lseek(fd, 0, SEEK_CUR);
  news.read_to = at > 0 ? static_cast<uint64_t>(at) : 0;
  bool named = ::stat(path.c_str(), &by_name) == 0;
  news.name_written = named && by_name.st_size > 0;
  if (named && (by_name.st_dev != open.st_dev || by_name.st_ino != open.st_ino)) {
    news.kind = FileNews::Rotated;
  } else if (by_offset && at > open.st_size) {
    news.kind = FileNews::Truncated;
  } else if (by_offset && print && print->fingerprint_bytes > 0 &&
             fingerprint_prefix(fd, print->fingerprint_bytes) != print->fingerprint) {
    news.kind = FileNews::Truncated;  // cut short and written past where reading got, between two looks
  }
  return news;
}

}  // namespace batchpipe
