// Which file a name stands for, to tell whether two names are one file:
// an existing file by device and inode (so links, "./x" and /dev/stdin
// count), a name that does not exist yet by its directory's resolved path
// and its last component (the file it would become).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace batchpipe {

struct FileKey {
  bool exists = false;
  bool regular = false;  ///< exists and is a regular file
  uint64_t device = 0;
  uint64_t inode = 0;
  std::string future;    ///< !exists: realpath(directory) + "/" + name; "" if the directory cannot be resolved

  /// Whether both name one file. Only regular files and names yet to be
  /// created can: /dev/null, a FIFO or a terminal on both sides is no clash.
  bool same_file(const FileKey& o) const {
    if (exists != o.exists) return false;
    if (exists) return regular && o.regular && device == o.device && inode == o.inode;
    return !future.empty() && future == o.future;
  }
};

/// The key of `path` (stat() follows a symbolic link to its target; a link
/// that leads nowhere is keyed as the name it is).
FileKey key_of_path(const std::string& path);

/// The key of the open descriptor `fd` (stdin, say).
FileKey key_of_fd(int fd);

}  // namespace batchpipe
