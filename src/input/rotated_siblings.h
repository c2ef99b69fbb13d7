// Where the bytes of a rotated or truncated file went: the files beside it
// in its directory. logrotate's `create` renames the file (app.log.1: the
// same inode); `copytruncate` copies it (app.log.1, or app.log.1.gz once
// compressed: another inode with the same first bytes) and then truncates
// it in place. The reader asks here when a file it was reading (or a
// checkpoint's file) is no longer where it was, or no longer as long.
//
// The decisions are pure (looks_rotated_name, choose_copy) and unit-tested;
// find_copy and find_moved gather the facts from the directory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "input/file_identity.h"

namespace batchpipe {

/// Whether `name` (a file name, no directory) looks like a rotation of
/// `base`'s: `base` followed by '.', '-' or '_' and more (app.log.1,
/// app.log-20261207, app.log.2.gz), or `base`'s stem (the part before its
/// first dot) followed by one of them and ending in `base`'s extension,
/// compressed or not (app-20261207.log, app.1.log.gz). Not `base` itself.
bool looks_rotated_name(std::string_view base, std::string_view name);

/// What the reader knows of one file beside the rotated one.
struct Sibling {
  std::string name;                      ///< file name, no directory
  uint64_t inode = 0;
  bool gzip = false;                     ///< its bytes are read decompressed
  std::optional<uint64_t> prefix_print;  ///< fingerprint_of its first wanted.fingerprint_bytes bytes (decompressed
                                         ///< for gzip); nothing if it holds fewer
  uint64_t length = 0;                   ///< bytes (decompressed for gzip: the gzip trailer's size)
  int64_t mtime_ns = 0;
};

struct CopyChoice {
  std::optional<size_t> index;  ///< the copy to read from `offset` on
  bool shorter = false;         ///< no copy, but one starts as the file did and is shorter than `offset`
};

/// The copy of the file `wanted` (of `base`'s name) read up to `offset`: a
/// sibling whose name looks_rotated_name, that is another inode, starts
/// with the same first bytes (its fingerprint) and holds at least `offset`
/// bytes. Plain copies before gzip ones (the compressed one is made from
/// it), then the most recently modified.
CopyChoice choose_copy(std::string_view base, const FileIdentity& wanted, uint64_t offset,
                       const std::vector<Sibling>& siblings);

/// A file found beside `path`, open for reading (-1: none).
struct FoundFile {
  int fd = -1;
  std::string path;
  bool gzip = false;        ///< read it decompressed
  bool same_start = true;   ///< find_moved: its first bytes are still the fingerprint's
  bool shorter = false;     ///< find_copy: see CopyChoice::shorter
};

/// Looks in `path`'s directory for the copy choose_copy picks; its
/// descriptor is at offset 0.
FoundFile find_copy(const std::string& path, const FileIdentity& wanted, uint64_t offset);

/// The file in `path`'s directory that is `identity`'s device and inode
/// (renamed by a rotation), other than `path` itself. If its first bytes
/// changed (truncated, then rotated) it is taken only under a name that
/// looks_rotated_name (an inode number used again by an unrelated file is
/// not read), with same_start false.
FoundFile find_moved(const std::string& path, const FileIdentity& identity);

/// The files rotated after the file `old_inode` (last written at
/// `old_mtime_ns`) that a run finds renamed beside `base`: plain siblings
/// whose names look_rotated_name, neither that file nor `current_inode` (the
/// file the name leads to now), written after it; oldest first. Two
/// rotations while no run read the files leave the checkpoint's file at
/// app.log.2 and the one after it at app.log.1, to be read before app.log.
/// Compressed ones are left out: what they hold cannot be told apart from
/// a copy of a file read already.
std::vector<size_t> choose_newer(std::string_view base, uint64_t old_inode, int64_t old_mtime_ns,
                                 uint64_t current_inode, const std::vector<Sibling>& siblings);

/// Opens, oldest first, the files choose_newer picks beside `path` for the
/// renamed file open at `old_fd`.
std::vector<FoundFile> find_newer(const std::string& path, int old_fd);

}  // namespace batchpipe
