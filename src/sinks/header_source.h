// The -H headers of every request, for the whole run: the ones given on the
// command line as they are, and those of a header file (-H @FILE) as the
// file says now. A header file is stat()ed before each request and read
// again when it changed (its inode, size, modification or change time), so
// a token rotated by replacing the file (Kubernetes, Vault Agent, a cron
// job) is sent from the next request on; after a 401 or 403 it is read
// again whatever its stat says.
//
// A file that cannot be read again (gone, unreadable, empty, a line that is
// not a header) keeps the headers last read from it: a writer that truncates
// then writes leaves it empty for a moment, and the receiver says whether
// the old token still works. The problem is warned about once, and again
// each time it changes. A pipe or other file that is not a regular file is
// read once, at start-up. One instance serves every worker: thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace batchpipe {

/// What tells one version of a file from the next without reading it.
struct FileStamp {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

/// One -H value as given on the command line.
struct HeaderPart {
  std::string path;                ///< -H @FILE with FILE a regular file: read again; empty: read once
  std::vector<std::string> lines;  ///< the headers, as read at start-up
  FileStamp stamp;                 ///< the file's when it was read at start-up
};

/// The headers one request is sent with.
struct HeaderSet {
  std::vector<std::string> all;         ///< every -H header, in the order given
  std::vector<std::string> from_files;  ///< those of the files read again, in order
  std::vector<std::string> secrets;     ///< never to quote back: the command line's, and those of the
                                        ///< files' current and previous versions
  uint64_t version = 0;                 ///< changes when the headers do
};

class HeaderSource {
 public:
  using Warn = std::function<void(std::string_view)>;
  /// `secrets`: those of the command line and of the files as read at start-up.
  HeaderSource(std::vector<HeaderPart> parts, std::vector<std::string> secrets, Warn warn);

  /// Whether any header comes from a file read again.
  bool rereads() const { return rereads_; }
  /// The headers now: every file whose stamp changed since it was last read
  /// is read again.
  std::shared_ptr<const HeaderSet> current();
  /// After the receiver refused the credentials: every file read again, even
  /// unchanged by its stamp. `why` says what was found, for the message of a
  /// refusal that stays ("...: read again, unchanged").
  std::shared_ptr<const HeaderSet> reread(std::string& why);

 private:
  /// Reads part `i` again if `force` or its stamp changed; true if its
  /// headers changed. `problem` gets what went wrong, if anything.
  bool refresh(size_t i, bool force, std::string& problem);
  void publish();

  std::mutex mutex_;
  std::vector<HeaderPart> parts_;
  std::vector<std::string> problems_;      ///< per part: the last problem warned about, "" if none
  std::vector<std::string> fixed_secrets_;
  std::vector<std::string> previous_secrets_;  ///< the files' secrets before the last change
  std::shared_ptr<const HeaderSet> set_;
  Warn warn_;
  bool rereads_ = false;
};

/// The stamp of the open file `fd`; false if it cannot be had.
bool stamp_of_fd(int fd, FileStamp& stamp);
/// The stamp of the file at `path` (a symbolic link followed); a default
/// stamp if there is none (gone, say), which differs from any file's.
FileStamp stamp_of_path(const std::string& path);

}  // namespace batchpipe
