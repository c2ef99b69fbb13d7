#include "input/gzip_source.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace batchpipe {
namespace {

/// Compressed bytes read at a time.
constexpr size_t kCompressedChunk = 256 << 10;

}  // namespace

bool GzipSource::start(const char* first, size_t n, std::string& error) {
  if (!decoder_.init(error)) {
    fail(error);
    return false;
  }
  std::memcpy(decoder_.space(n), first, n);
  decoder_.fed(n);
  return true;
}

ssize_t GzipSource::fail(std::string& error) const {
  error += fmt::format(" (after {} compressed bytes, {} bytes decompressed)", decoder_.compressed_bytes(),
                       decoder_.decompressed_bytes());
  return kError;
}

ssize_t GzipSource::read(char* dst, size_t cap, std::string& error) {
  if (!decoder_.pending()) {
    ssize_t r = raw_->read(decoder_.space(kCompressedChunk), kCompressedChunk, error);
    if (r == kAgain) return kAgain;
    if (r == kError) return fail(error);
    if (r == 0) return decoder_.finish(error) ? 0 : fail(error);
    decoder_.fed(static_cast<size_t>(r));
  }
  ssize_t made = decoder_.inflate_into(dst, cap, error);
  if (made < 0) return fail(error);
  if (skip_ > 0 && made > 0) {  // a resume: these were sent by an earlier run
    uint64_t drop = std::min<uint64_t>(skip_, static_cast<uint64_t>(made));
    skip_ -= drop;
    std::memmove(dst, dst + drop, static_cast<size_t>(made) - drop);
    made -= static_cast<ssize_t>(drop);
  }
  return made == 0 ? kAgain : made;
}

}  // namespace batchpipe
