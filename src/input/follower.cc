#include "input/follower.h"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

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

bool Follower::wait(const std::vector<int>& fds) {
  std::vector<pollfd> polled = {{stop_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
  for (int fd : fds) polled.push_back({fd, POLLIN, 0});
  int ready = ::poll(polled.data(), polled.size(), kPollMs);
  if (ready < 0 && errno != EINTR) return true;
  if (polled[0].revents) return false;
  if (polled[1].revents) {
    char events[4096];  // which file does not matter: each gets one read
    while (::read(inotify_fd_, events, sizeof events) > 0) {
    }
  }
  return true;
}

FileNews Follower::look(const std::string& path, int fd, bool by_offset) {
  struct stat by_name {}, open {};
  if (::fstat(fd, &open) != 0) return {FileNews::Unknown};
  bool named = ::stat(path.c_str(), &by_name) == 0;
  if (named && (by_name.st_dev != open.st_dev || by_name.st_ino != open.st_ino)) return {FileNews::Rotated};
  off_t at = ::lseek(fd, 0, SEEK_CUR);
  if (by_offset && at > open.st_size)
    return {FileNews::Truncated, static_cast<uint64_t>(open.st_size), static_cast<uint64_t>(at)};
  return {};
}

}  // namespace batchpipe
