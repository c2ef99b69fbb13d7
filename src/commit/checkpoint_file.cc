#include "commit/checkpoint_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "base/safe_file.h"

namespace batchpipe {
namespace {

bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    text.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

/// Why the open file `fd` must not steer the run, or "".
std::string problem_of(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? owner_problem(st, ::geteuid()) : "";
}

std::string link_aware_error(int error) {
  if (error == ELOOP)
    return "it is a symbolic link in a directory others can write, which batchpipe does not follow: give the "
           "path of the file itself";
  return std::strerror(error);
}

std::string directory_of(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

/// The checkpoint file itself: `path` with its symbolic links resolved (for
/// a file not made yet, its directory's, and a dangling link's target), so
/// that two names of one checkpoint take one lock and a save replaces the
/// file, not a link to it. Links only as open_no_planted_link follows them.
std::string file_itself(const std::string& path, int depth = 0) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf)) return buf;
  struct stat st {};
  if (depth < 8 && ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    if (n > 0) {
      std::string target(buf, static_cast<size_t>(n));
      if (target[0] != '/') target = directory_of(path) + "/" + target;
      return file_itself(target, depth + 1);
    }
  }
  std::filesystem::path p(path);
  if (::realpath(directory_of(path).c_str(), buf)) return (std::filesystem::path(buf) / p.filename()).string();
  return path;
}

}  // namespace

std::optional<CheckpointFile> CheckpointFile::open(const std::string& given, std::string& error) {
  // A link planted in a directory others can write is refused before it is resolved.
  UniqueFd probe(open_no_planted_link(given, O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!probe && errno == ELOOP) {
    error = fmt::format("--checkpoint: cannot read {}: {}", given, link_aware_error(errno));
    return std::nullopt;
  }
  probe.reset();
  const std::string path = file_itself(given);
  // The lock and the checkpoint are opened alike: no link planted in a
  // directory others can write is followed, and neither may be another user's
  // (whoever holds the lock stops every run; whoever writes the checkpoint
  // decides which records are skipped).
  std::string lock_path = path + ".lock";
  UniqueFd lock(open_no_planted_link(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock) {
    error = fmt::format("--checkpoint: cannot create {}: {}", lock_path, link_aware_error(errno));
    return std::nullopt;
  }
  if (std::string why = problem_of(lock.get()); !why.empty()) {
    error = fmt::format("--checkpoint: {}: {}", lock_path, why);
    return std::nullopt;
  }
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    error = errno == EWOULDBLOCK
                ? fmt::format("--checkpoint: {} is in use by another batchpipe (two runs cannot share a checkpoint)",
                              given == path ? given : fmt::format("{} ({})", given, path))
                : fmt::format("--checkpoint: cannot lock {}: {}", lock_path, std::strerror(errno));
    return std::nullopt;
  }
  CheckpointFile file(path, std::move(lock));
  std::string text;
  UniqueFd fd(open_no_planted_link(path, O_RDONLY | O_CLOEXEC));
  if (!fd && errno != ENOENT) {
    error = fmt::format("--checkpoint: cannot read {}: {}", path, link_aware_error(errno));
    return std::nullopt;
  }
  if (fd) {
    if (std::string why = problem_of(fd.get()); !why.empty()) {
      error = fmt::format("--checkpoint: {}: {}", path, why);
      return std::nullopt;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) == 0 && !S_ISREG(st.st_mode)) {
      error = fmt::format("--checkpoint: {} is not a regular file", path);
      return std::nullopt;
    }
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error = fmt::format("--checkpoint: cannot read {}: {}", path, std::strerror(errno));
        return std::nullopt;
      }
      if (n == 0) break;
      text.append(buf, static_cast<size_t>(n));
      if (text.size() > (64 << 20)) {
        error = fmt::format("--checkpoint: {} is larger than 64 MiB: not a checkpoint", path);
        return std::nullopt;
      }
    }
  }
  std::string why;
  if (!parse_checkpoint(text, file.loaded_, why)) {
    error = fmt::format("--checkpoint: {} is not a batchpipe checkpoint: {}; fix or remove it", path, why);
    return std::nullopt;
  }
  if (!file.save(file.loaded_, error)) return std::nullopt;
  return file;
}

bool CheckpointFile::save(const std::vector<CheckpointEntry>& entries, std::string& error) {
  std::string tmp;
  UniqueFd fd(create_temp_beside(path_, 0600, tmp));  // a fresh random name: nothing planted is written through
  if (!fd) {
    error = fmt::format("--checkpoint: cannot create a temporary file beside {}: {}", path_, std::strerror(errno));
    return false;
  }
  auto fail = [&](const char* what, const std::string& name) {
    error = fmt::format("--checkpoint: cannot {} {}: {}", what, name, std::strerror(errno));
    ::unlink(tmp.c_str());
    return false;
  };
  if (!write_all(fd.get(), format_checkpoint(entries))) return fail("write", tmp);
  if (::fsync(fd.get()) != 0) return fail("sync", tmp);
  fd.reset();
  if (::rename(tmp.c_str(), path_.c_str()) != 0) return fail("replace", path_);
  std::string dir = directory_of(path_);
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd) (void)::fsync(dir_fd.get());
  return true;
}

}  // namespace batchpipe
