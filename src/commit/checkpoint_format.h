// The checkpoint file's contents: plain JSON, one file a line, so that people
// can read and edit it:
//
//   {"version": 1, "files": [
//   {"path": "/var/log/app.log", "device": 2049, "inode": 131, "fingerprint": "cbf29ce484222325",
//    "fingerprint_bytes": 1024, "offset": 52311, "line": 880}
//   ]}
//
// `offset` is where reading starts again (just past the last committed
// line; decompressed bytes for gzip input), `line` the lines before it, and
// device, inode and the fingerprint of the first fingerprint_bytes bytes
// say which file that was (see file_identity.h). Pure: text in, text out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "input/resume.h"

namespace batchpipe {

struct CheckpointEntry {
  std::string path;  ///< absolute, as given (symbolic links are not resolved: the name is what is followed)
  ResumePoint at;
};

std::string format_checkpoint(const std::vector<CheckpointEntry>& entries);

/// Reads a checkpoint; false with `error` saying what is wrong if `text` is
/// not one. An empty (or all-blank) text is an empty checkpoint.
bool parse_checkpoint(std::string_view text, std::vector<CheckpointEntry>& entries, std::string& error);

/// `path` made absolute against `cwd`, lexically (no symbolic link resolved).
std::string absolute_path(const std::string& path, const std::string& cwd);

}  // namespace batchpipe
