// Gzip input, decompressed on the fly (zlib): an input that starts with the
// gzip magic bytes is read through one of these. Concatenated members (as
// `cat a.gz b.gz` makes) are one stream. Memory is one buffer of compressed
// bytes and zlib's window, whatever the sizes involved.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <zlib.h>

namespace batchpipe {

/// True when `data` starts with the gzip magic bytes (RFC 1952).
inline bool looks_gzipped(const char* data, size_t size) {
  return size >= 2 && static_cast<unsigned char>(data[0]) == 0x1f && static_cast<unsigned char>(data[1]) == 0x8b;
}

class GzipDecoder {
 public:
  GzipDecoder() = default;
  ~GzipDecoder();
  GzipDecoder(const GzipDecoder&) = delete;
  GzipDecoder& operator=(const GzipDecoder&) = delete;

  /// Sets zlib up; false with `error` set if it cannot (out of memory).
  bool init(std::string& error);

  /// Where the next compressed bytes go (at least `min` bytes of room);
  /// call fed() with how many were put there.
  char* space(size_t min);
  void fed(size_t n);
  /// Compressed bytes fed but not yet decompressed.
  bool pending() const { return in_end_ > in_pos_ || !failed_.empty(); }

  /// Decompresses into `out` (up to `cap` bytes); returns how many bytes it
  /// produced, or -1 with `error` set for data that is not valid gzip.
  ssize_t inflate_into(char* out, size_t cap, std::string& error);

  /// At the end of the compressed input: false with `error` set if the
  /// stream stopped inside a member (truncated).
  bool finish(std::string& error) const;

  uint64_t compressed_bytes() const { return consumed_; }
  uint64_t decompressed_bytes() const { return produced_; }

 private:
  z_stream z_{};
  bool ready_ = false;
  bool in_member_ = false;  ///< between a member's header and its end
  std::string failed_;      ///< an error found after some bytes were produced: told next call
  std::vector<char> in_;
  size_t in_pos_ = 0, in_end_ = 0;
  uint64_t consumed_ = 0, produced_ = 0;
};

}  // namespace batchpipe
