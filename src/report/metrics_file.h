// A file rewritten whole, atomically: for --metrics-file, which node_exporter's
// textfile collector may read at any moment.
#pragma once

#include <string>
#include <string_view>

namespace batchpipe {

class MetricsFile {
 public:
  explicit MetricsFile(std::string path);

  /// Replaces the file's content with `text`: writes a temporary file in the
  /// same directory (created exclusively under a random name, ".NAME.RANDOM.tmp",
  /// so nothing planted is written through and a collector that reads *.prom
  /// skips it), syncs it and renames it over the path, so a reader sees the
  /// old text or the new, never a mix. The file gets mode 0644 less the umask.
  /// Returns "" on success, else a message ("cannot write PATH: reason") and
  /// the temporary file is removed.
  std::string write(std::string_view text) const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace batchpipe
