// The checkpoint file on disk (--checkpoint FILE): locked for the run, read
// at start-up, rewritten atomically (FILE.tmp, fsync, rename, fsync of the
// directory), so that after a crash it holds either the old or the new
// positions, whole. The lock is flock() on FILE.lock beside it (the file
// itself is replaced at every write, so it cannot carry the lock); the lock
// file stays, empty. FILE's symbolic links are resolved first, so the lock
// follows the file, not the name it was given by, and a save replaces the
// file a link leads to, never the link.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "commit/checkpoint_format.h"
#include "base/unique_fd.h"

namespace batchpipe {

class CheckpointFile {
 public:
  /// Locks and reads `path` (a missing file is an empty checkpoint) and
  /// writes it back at once, so that a directory where it cannot be written
  /// is found now, not after the first batch. Nothing, with `error` set, if
  /// another run holds it, it is not a checkpoint, or it cannot be written.
  static std::optional<CheckpointFile> open(const std::string& path, std::string& error);

  /// What the file held at start-up.
  const std::vector<CheckpointEntry>& loaded() const { return loaded_; }

  /// Replaces the file's contents with `entries`, durably; false with
  /// `error` set (the old contents stay) if it could not.
  bool save(const std::vector<CheckpointEntry>& entries, std::string& error);

  const std::string& path() const { return path_; }

 private:
  CheckpointFile(std::string path, UniqueFd lock) : path_(std::move(path)), lock_(std::move(lock)) {}

  std::string path_;
  UniqueFd lock_;
  std::vector<CheckpointEntry> loaded_;
};

}  // namespace batchpipe
