// The files batchpipe writes (--dead-letter, --checkpoint and its lock,
// --metrics-file, the --spool state file and segments) must be none of its inputs and none of each other: the
// metrics file renamed over an input replaces it before it is read, a
// checkpoint renamed over the dead-letter file destroys the dead letters
// and records them as done, a dead-letter file read as an input replays
// into itself without end. Checked once, at start-up, before anything is
// written.
#pragma once

#include <string>
#include <vector>

#include "base/file_key.h"
#include "cli/config.h"

namespace batchpipe {

/// A file as a message names it ("--metrics-file m.prom", "the standard input").
struct NamedFile {
  std::string what;
  FileKey key;
  /// An output's own words for being an input: why that cannot work and
  /// what to do ("" for the general message).
  std::string if_input = {};
};

/// The first clash, as a one-line message naming both files: an output that
/// is an input (in the output's own words where it has them), or two outputs
/// that are one file. "" if there is none. Pure.
std::string find_output_clash(const std::vector<NamedFile>& outputs, const std::vector<NamedFile>& inputs);

/// Whether `path` names a file in directory `dir`: by device and inode when
/// both directories exist, by resolved name when neither does yet.
bool in_directory(const std::string& path, const std::string& dir);

/// The files `config` writes and reads, keyed as they are now (stdin by its
/// descriptor), checked with find_output_clash().
std::string check_output_files(const Config& config);

}  // namespace batchpipe
