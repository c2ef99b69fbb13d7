#include "base/safe_file.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

namespace batchpipe {
namespace {

constexpr int kTempTries = 100;

/// Twelve characters from [0-9a-z]: 62 bits, not guessable from the PID.
std::string random_name_part() {
  static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  unsigned char bytes[12];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // no entropy source at all: the O_EXCL below still holds
    got += static_cast<size_t>(n);
  }
  std::string out;
  for (unsigned char b : bytes) out.push_back(kAlphabet[b % 36]);
  return out;
}

std::string directory_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

int create_temp_beside(const std::string& path, mode_t mode, std::string& temp_path) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  for (int i = 0; i < kTempTries; ++i) {
    temp_path = fmt::format("{}.{}.{}.tmp", dir, name, random_name_part());
    int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd >= 0 || (errno != EEXIST && errno != EINTR)) return fd;
  }
  return -1;  // errno is EEXIST
}

bool directory_is_trusted(const struct stat& dir, uid_t me) {
  return (dir.st_uid == 0 || dir.st_uid == me) && (dir.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

int open_no_planted_link(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_NOFOLLOW, mode);
  if (fd >= 0 || errno != ELOOP) return fd;
  struct stat link {}, dir {};
  if (::lstat(path.c_str(), &link) != 0 || !S_ISLNK(link.st_mode) ||
      ::stat(directory_of(path).c_str(), &dir) != 0 || !directory_is_trusted(dir, ::geteuid())) {
    errno = ELOOP;
    return -1;
  }
  return ::open(path.c_str(), flags & ~O_CREAT, mode);  // only an existing target: a link never creates one
}

std::string owner_problem(const struct stat& st, uid_t me) {
  if (st.st_uid == me) return "";
  return fmt::format("it belongs to another user (uid {}, not {}): remove it, or choose a path in a directory "
                     "only you can write", st.st_uid, me);
}

std::string private_file_problem(const struct stat& st, uid_t me) {
  if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) return "";
  if (std::string owner = owner_problem(st, me); !owner.empty()) return owner;
  if ((st.st_mode & (S_IRWXO | S_IWGRP)) != 0)
    return fmt::format("its mode {:04o} lets {} the records: chmod 600 it (or 640 to share it with its group)",
                       st.st_mode & 07777, (st.st_mode & S_IRWXO) ? "other users read or change" : "its group change");
  return "";
}

}  // namespace batchpipe
