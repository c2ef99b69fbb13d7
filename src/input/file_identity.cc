#include "input/file_identity.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

namespace batchpipe {

uint64_t fingerprint_of(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::optional<uint64_t> fingerprint_prefix(int fd, uint64_t bytes) {
  char buf[kFingerprintBytes];
  if (bytes > sizeof buf) return std::nullopt;
  uint64_t got = 0;
  while (got < bytes) {
    ssize_t n = ::pread(fd, buf + got, bytes - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    got += static_cast<uint64_t>(n);
  }
  return fingerprint_of({buf, bytes});
}

FileIdentity identify(int fd, uint64_t bytes) {
  FileIdentity id;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return id;
  uint64_t len = std::min<uint64_t>({bytes, kFingerprintBytes, static_cast<uint64_t>(st.st_size)});
  // The file may shrink between fstat and pread: take what is there then.
  std::optional<uint64_t> fp;
  while (!(fp = fingerprint_prefix(fd, len)) && len > 0) len = 0;
  id.regular = true;
  id.device = static_cast<uint64_t>(st.st_dev);
  id.inode = static_cast<uint64_t>(st.st_ino);
  id.fingerprint = *fp;
  id.fingerprint_bytes = len;
  return id;
}

std::string fingerprint_text(uint64_t fingerprint) { return fmt::format("{:016x}", fingerprint); }

}  // namespace batchpipe
