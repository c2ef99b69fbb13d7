#include "input/rotated_siblings.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>

#include "input/gzip_decoder.h"

namespace batchpipe {
namespace {

bool is_separator(char c) { return c == '.' || c == '-' || c == '_'; }

std::string directory_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : slash == 0 ? std::string("/") : path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// The first `bytes` decompressed bytes of the gzip file `fd`, or nothing if
/// it holds fewer or is not valid gzip.
std::optional<std::string> gzip_prefix(int fd, uint64_t bytes) {
  z_stream z{};
  if (::inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return std::nullopt;
  std::string out(bytes, '\0');
  char in[16384];
  off_t at = 0;
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(bytes);
  int rc = Z_OK;
  while (z.avail_out > 0 && rc == Z_OK) {
    if (z.avail_in == 0) {
      ssize_t n = ::pread(fd, in, sizeof in, at);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      at += n;
      z.next_in = reinterpret_cast<Bytef*>(in);
      z.avail_in = static_cast<uInt>(n);
    }
    rc = ::inflate(&z, Z_NO_FLUSH);
  }
  bool whole = z.avail_out == 0;
  ::inflateEnd(&z);
  if (!whole) return std::nullopt;
  return out;
}

/// The decompressed size a gzip file's trailer states (modulo 4 GiB, as RFC 1952 keeps it).
uint64_t gzip_length(int fd, uint64_t stored) {
  unsigned char t[4];
  if (stored < 18 || ::pread(fd, t, 4, static_cast<off_t>(stored - 4)) != 4) return 0;
  return uint64_t{t[0]} | uint64_t{t[1]} << 8 | uint64_t{t[2]} << 16 | uint64_t{t[3]} << 24;
}

}  // namespace

bool looks_rotated_name(std::string_view base, std::string_view name) {
  if (name.size() > base.size() && name.substr(0, base.size()) == base && is_separator(name[base.size()]))
    return true;
  size_t dot = base.find('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  std::string_view stem = base.substr(0, dot), ext = base.substr(base.rfind('.'));
  if (name.size() <= stem.size() || name.substr(0, stem.size()) != stem || !is_separator(name[stem.size()]))
    return false;
  std::string_view rest = name;
  if (rest.ends_with(".gz")) rest.remove_suffix(3);
  return rest.ends_with(ext) && rest.size() > stem.size() + ext.size();
}

CopyChoice choose_copy(std::string_view base, const FileIdentity& wanted, uint64_t offset,
                       const std::vector<Sibling>& siblings) {
  CopyChoice choice;
  for (size_t i = 0; i < siblings.size(); ++i) {
    const Sibling& s = siblings[i];
    if (!looks_rotated_name(base, s.name) || s.inode == wanted.inode || s.prefix_print != wanted.fingerprint)
      continue;
    if (s.length < offset) {
      choice.shorter = true;
      continue;
    }
    if (choice.index) {
      const Sibling& best = siblings[*choice.index];
      if (best.gzip != s.gzip ? s.gzip : s.mtime_ns <= best.mtime_ns) continue;
    }
    choice.index = i;
  }
  if (choice.index) choice.shorter = false;
  return choice;
}

namespace {

/// The regular files beside `path` (on `device`) whose names look_rotated_name,
/// with their first `fingerprint_bytes` bytes' fingerprints.
std::vector<Sibling> list_siblings(const std::string& dir, const std::string& base, uint64_t device,
                                   uint64_t fingerprint_bytes) {
  std::vector<Sibling> siblings;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return siblings;
  while (const dirent* e = ::readdir(d)) {
    if (!looks_rotated_name(base, e->d_name)) continue;  // before any open: most files are not candidates
    struct stat st {};
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<uint64_t>(st.st_dev) != device)
      continue;
    int fd = ::openat(::dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
    if (fd < 0) continue;
    Sibling s;
    s.name = e->d_name;
    s.inode = static_cast<uint64_t>(st.st_ino);
    s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    char magic[2];
    s.gzip = ::pread(fd, magic, 2, 0) == 2 && looks_gzipped(magic, 2);
    if (s.gzip) {
      if (std::optional<std::string> head = gzip_prefix(fd, fingerprint_bytes)) s.prefix_print = fingerprint_of(*head);
      s.length = gzip_length(fd, static_cast<uint64_t>(st.st_size));
    } else {
      s.prefix_print = fingerprint_prefix(fd, fingerprint_bytes);
      s.length = static_cast<uint64_t>(st.st_size);
    }
    ::close(fd);
    siblings.push_back(std::move(s));
  }
  ::closedir(d);
  return siblings;
}

/// Opens `dir`/`s` again by name; -1 unless it is still the file judged.
int open_sibling(const std::string& dir, const Sibling& s) {
  std::string path = dir + "/" + s.name;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
  struct stat st {};
  if (fd >= 0 && (::fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_ino) != s.inode)) {
    ::close(fd);
    fd = -1;
  }
  return fd;
}

}  // namespace

FoundFile find_copy(const std::string& path, const FileIdentity& wanted, uint64_t offset) {
  FoundFile found;
  if (!wanted.regular) return found;
  std::string dir = directory_of(path), base = base_of(path);
  std::vector<Sibling> siblings = list_siblings(dir, base, wanted.device, wanted.fingerprint_bytes);
  CopyChoice choice = choose_copy(base, wanted, offset, siblings);
  found.shorter = choice.shorter;
  if (!choice.index) return found;
  const Sibling& s = siblings[*choice.index];
  found.path = dir + "/" + s.name;
  found.fd = open_sibling(dir, s);
  found.gzip = s.gzip;
  return found;
}

std::vector<size_t> choose_newer(std::string_view base, uint64_t old_inode, int64_t old_mtime_ns,
                                 uint64_t current_inode, const std::vector<Sibling>& siblings) {
  std::vector<size_t> newer;
  for (size_t i = 0; i < siblings.size(); ++i) {
    const Sibling& s = siblings[i];
    if (looks_rotated_name(base, s.name) && !s.gzip && s.inode != old_inode && s.inode != current_inode &&
        s.mtime_ns > old_mtime_ns)
      newer.push_back(i);
  }
  std::stable_sort(newer.begin(), newer.end(),
                   [&](size_t a, size_t b) { return siblings[a].mtime_ns < siblings[b].mtime_ns; });
  return newer;
}

std::vector<FoundFile> find_newer(const std::string& path, int old_fd) {
  std::vector<FoundFile> found;
  struct stat old {};
  if (::fstat(old_fd, &old) != 0 || !S_ISREG(old.st_mode)) return found;
  std::string dir = directory_of(path), base = base_of(path);
  struct stat by_name {};
  uint64_t current = ::stat(path.c_str(), &by_name) == 0 ? static_cast<uint64_t>(by_name.st_ino) : 0;
  std::vector<Sibling> siblings = list_siblings(dir, base, static_cast<uint64_t>(old.st_dev), 0);
  int64_t old_mtime = static_cast<int64_t>(old.st_mtim.tv_sec) * 1000000000 + old.st_mtim.tv_nsec;
  for (size_t i : choose_newer(base, static_cast<uint64_t>(old.st_ino), old_mtime, current, siblings)) {
    FoundFile f;
    f.path = dir + "/" + siblings[i].name;
    f.fd = open_sibling(dir, siblings[i]);
    if (f.fd >= 0) found.push_back(std::move(f));
  }
  return found;
}

FoundFile find_moved(const std::string& path, const FileIdentity& identity) {
  FoundFile found;
  if (!identity.regular) return found;
  std::string dir = directory_of(path), base = base_of(path);
  DIR* d = ::opendir(dir.c_str());
  if (!d) return found;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_ino != identity.inode || base == e->d_name) continue;  // d_ino is st_ino outside mount points
    struct stat st {};
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<uint64_t>(st.st_dev) != identity.device || static_cast<uint64_t>(st.st_ino) != identity.inode)
      continue;
    int fd = ::openat(::dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
    if (fd < 0) continue;
    bool same_start = fingerprint_prefix(fd, identity.fingerprint_bytes) == identity.fingerprint;
    // The inode alone is not enough: a freed inode is soon another file's.
    if (!same_start && !looks_rotated_name(base, e->d_name)) {
      ::close(fd);
      continue;
    }
    found.fd = fd;
    found.path = dir + "/" + e->d_name;
    found.same_start = same_start;
    break;
  }
  ::closedir(d);
  return found;
}

}  // namespace batchpipe
