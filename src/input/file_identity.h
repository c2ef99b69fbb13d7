// Which file an input is, beyond its name: for a regular file, its device and
// inode and a fingerprint of its first bytes. A checkpoint resumes a file
// only if all three still match, so a file replaced under the same name (or
// an inode number reused for another file) is read from its start; a
// receiver may also build a record id from an identity and a byte offset.
//
// The fingerprint covers the first min(kFingerprintBytes, size) bytes as
// stored on disk (compressed bytes for gzip input), and its length goes
// with it: it is fixed once the file holds kFingerprintBytes bytes, and
// grows (so changes) with the file until then.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace batchpipe {

inline constexpr uint64_t kFingerprintBytes = 1024;

struct FileIdentity {
  bool regular = false;           ///< false: stdin, a pipe, a device: nothing to identify or resume
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t fingerprint = 0;       ///< fingerprint_of() the first fingerprint_bytes bytes
  uint64_t fingerprint_bytes = 0; ///< at most kFingerprintBytes

  bool same_file(const FileIdentity& o) const {
    return regular && o.regular && device == o.device && inode == o.inode;
  }
  bool operator==(const FileIdentity&) const = default;
};

/// FNV-1a (64 bits) of `bytes`; 0 bytes give the offset basis.
uint64_t fingerprint_of(std::string_view bytes);

/// The identity of the open file `fd` with a fingerprint of its first
/// min(`bytes`, size) bytes (pread: the file offset does not move). Not
/// regular for anything but a regular file, or if it cannot be read.
FileIdentity identify(int fd, uint64_t bytes = kFingerprintBytes);

/// The fingerprint of exactly the first `bytes` bytes of `fd`, or nothing if
/// it holds fewer (it shrank) or cannot be read.
std::optional<uint64_t> fingerprint_prefix(int fd, uint64_t bytes);

/// Sixteen hex digits ("1a2b3c4d5e6f7081"), as the checkpoint file writes it.
std::string fingerprint_text(uint64_t fingerprint);

}  // namespace batchpipe
