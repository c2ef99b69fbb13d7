// Where reading a file starts again, given what a checkpoint saved about it
// and what the file is now. Pure, so every case is unit-tested; the reader
// gathers the facts (fstat, a fingerprint) and applies the answer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "input/file_identity.h"

namespace batchpipe {

/// What a checkpoint recorded for one input: which file, and how far its
/// records were committed.
struct ResumePoint {
  FileIdentity identity;
  uint64_t offset = 0;  ///< just past the last committed line (decompressed bytes for gzip input)
  uint64_t line = 0;    ///< lines before `offset`, so line numbers in messages stay right
};

/// The file as it is now.
struct FileNow {
  FileIdentity identity;                       ///< fingerprint not needed here
  uint64_t size = 0;                           ///< bytes on disk
  bool gzip = false;                           ///< offsets count decompressed bytes: size says nothing
  std::optional<uint64_t> saved_prefix_print;  ///< fingerprint_of its first saved.fingerprint_bytes bytes,
                                               ///< nothing if it holds fewer
};

struct ResumeDecision {
  uint64_t offset = 0;  ///< where to start reading
  uint64_t line = 0;    ///< lines before it
  std::string warning;  ///< why a saved position was not used ("" if it was, or there was none)
};

/// Resumes at `saved` if `now` is the same file (device, inode, fingerprint)
/// and still that long; otherwise starts at 0, saying why. `name` is the
/// input's name for the warning.
ResumeDecision decide_resume(const std::string& name, const ResumePoint& saved, const FileNow& now);

}  // namespace batchpipe
