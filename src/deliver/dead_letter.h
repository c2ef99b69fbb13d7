// The dead-letter file: records that could not be delivered, appended as
// NDJSON byte-for-byte, so that `batchpipe < FILE` replays them.
#pragma once

#include <optional>
#include <string>

#include "batch/batch_encoder.h"

namespace batchpipe {

class DeadLetter {
 public:
  /// Opens `path` for appending, creating it with mode 0600 whatever the
  /// umask. Returns nothing and sets `error` if it cannot.
  static std::optional<DeadLetter> open(const std::string& path, std::string& error);

  DeadLetter(DeadLetter&& other) noexcept;
  DeadLetter& operator=(DeadLetter&&) = delete;
  ~DeadLetter();

  /// Appends each record of `batch` on a line of its own and syncs the file
  /// to disk. Returns false and sets `error` (naming the path) if it could not.
  bool write(const Batch& batch, std::string& error);

  const std::string& path() const { return path_; }

 private:
  DeadLetter(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  std::string path_;
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace batchpipe
