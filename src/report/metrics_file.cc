#include "report/metrics_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

namespace batchpipe {

MetricsFile::MetricsFile(std::string path) : path_(std::move(path)) {
  size_t slash = path_.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path_.substr(0, slash + 1);
  std::string name = slash == std::string::npos ? path_ : path_.substr(slash + 1);
  temp_path_ = fmt::format("{}.{}.{}.tmp", dir, name, ::getpid());
}

std::string MetricsFile::write(std::string_view text) const {
  auto fail = [&](int fd, int error) {
    if (fd >= 0) ::close(fd);
    ::unlink(temp_path_.c_str());
    return fmt::format("cannot write {}: {}", path_, std::strerror(error));
  };
  int fd = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fmt::format("cannot write {}: {}", path_, std::strerror(errno));
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(fd, errno);
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail(fd, errno);
  if (::close(fd) != 0) return fail(-1, errno);
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) return fail(-1, errno);
  return "";
}

}  // namespace batchpipe
