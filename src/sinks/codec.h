// Request-body compression for --compress: gzip (RFC 1952, made by
// libdeflate) and zstd (RFC 8878, libzstd). A Codec's compressor state is
// allocated once and reused for every body; the --post workers share as many
// as --max-buffer holds (codec_pool.h), and a body is compressed on the
// thread that sends it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sinks/codec_options.h"

namespace batchpipe {

/// Where a Codec writes a body: grows to the largest bound asked of it and
/// keeps that capacity, so the next body of that size touches no fresh
/// memory; its bytes are not zeroed first (the compressor writes them).
/// Pages past what a compressor wrote are allocated but never touched, so
/// they cost address space, not resident memory.
class CodecBuffer {
 public:
  std::string_view view() const { return {data_.get(), size_}; }
  size_t size() const { return size_; }
  /// Bytes allocated: what --max-buffer accounting should count.
  size_t capacity() const { return capacity_; }
  /// At least `n` writable bytes, the contents dropped; null if out of memory.
  char* prepare(size_t n);
  /// How many of the prepared bytes hold the body.
  void set_size(size_t n) { size_ = n; }
  /// Gives the memory back.
  void release();

 private:
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

class Codec {
 public:
  /// The codec `choice` names, its state allocated; null for Codec::None, and
  /// null with `error` set if the state cannot be allocated.
  /// zstd's tables are made smaller, if need be, so that its state stays
  /// within `most_state` bytes (state_bytes()); gzip's cannot be.
  static std::unique_ptr<Codec> create(CodecChoice choice, std::string& error, uint64_t most_state = UINT64_MAX);
  /// The memory a Codec of `choice` created with `most_state` may hold
  /// besides its input and output, whatever the size of a body: libdeflate's
  /// allocation for the level, zstd's estimate of its context (largest for a
  /// body of unknown size). 0 for CodecKind::None.
  static uint64_t state_bytes(CodecChoice choice, uint64_t most_state = UINT64_MAX);
  virtual ~Codec() = default;

  /// The Content-Encoding token: "gzip" or "zstd".
  virtual std::string_view encoding() const = 0;
  /// Compresses the whole of `in` into `out` (its size set to the body's).
  /// Memory beyond `in` and `out` is the codec's state, the same whatever
  /// the size of `in`. False, with the reason in `error`, if out of memory.
  virtual bool compress(std::string_view in, CodecBuffer& out, std::string& error) = 0;
};

}  // namespace batchpipe
