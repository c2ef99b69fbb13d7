#include "report/metrics_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "base/safe_file.h"

namespace batchpipe {

MetricsFile::MetricsFile(std::string path) : path_(std::move(path)) {}

std::string MetricsFile::write(std::string_view text) const {
  std::string temp_path;
  auto fail = [&](int fd, int error) {
    if (fd >= 0) ::close(fd);
    ::unlink(temp_path.c_str());
    return fmt::format("cannot write {}: {}", path_, std::strerror(error));
  };
  // A fresh random name each time, created exclusively: a link planted where
  // the temporary file will be is never written through.
  int fd = create_temp_beside(path_, 0644, temp_path);
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
  if (std::rename(temp_path.c_str(), path_.c_str()) != 0) return fail(-1, errno);
  return "";
}

}  // namespace batchpipe
