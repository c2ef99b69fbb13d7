#include "base/file_key.h"

#include <sys/stat.h>

#include <climits>
#include <cstdlib>

namespace batchpipe {
namespace {

FileKey from_stat(const struct stat& st) {
  FileKey key;
  key.exists = true;
  key.regular = S_ISREG(st.st_mode);
  key.device = st.st_dev;
  key.inode = st.st_ino;
  return key;
}

}  // namespace

FileKey key_of_path(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return from_stat(st);
  FileKey key;
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") return key;
  char resolved[PATH_MAX];
  if (::realpath(dir.c_str(), resolved) != nullptr) {
    key.future = resolved;
    if (key.future.back() != '/') key.future += '/';
    key.future += name;
  }
  return key;
}

FileKey key_of_fd(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) == 0) return from_stat(st);
  return {};
}

}  // namespace batchpipe
