#include "sinks/codec.h"

#include <libdeflate.h>
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getCParams, ZSTD_estimateCCtxSize_usingCParams (exported by libzstd.so)
#include <zstd.h>

#include <algorithm>
#include <new>

#include <fmt/format.h>

namespace batchpipe {

char* CodecBuffer::prepare(size_t n) {
  size_ = 0;
  if (n > capacity_) {
    data_.reset();  // the old bytes are not wanted: never two buffers at once
    capacity_ = 0;
    data_.reset(new (std::nothrow) char[n]);  // default-initialised: not zeroed
    if (!data_) return nullptr;
    capacity_ = n;
  }
  return data_.get();
}

void CodecBuffer::release() {
  data_.reset();
  size_ = capacity_ = 0;
}

namespace {

/// RFC 1952 through libdeflate: a whole-buffer compressor, faster than
/// zlib at an equal ratio (README, Performance). Its state is fixed by the
/// level: it does not grow with the body.
class GzipCodec final : public Codec {
 public:
  explicit GzipCodec(libdeflate_compressor* c) : c_(c) {}
  ~GzipCodec() override { libdeflate_free_compressor(c_); }
  std::string_view encoding() const override { return "gzip"; }

  bool compress(std::string_view in, CodecBuffer& out, std::string& error) override {
    size_t bound = libdeflate_gzip_compress_bound(c_, in.size());
    char* dst = out.prepare(bound);
    if (!dst) {
      error = fmt::format("cannot gzip the batch: out of memory ({} bytes)", bound);
      return false;
    }
    // Never 0 with a bound-sized buffer: 0 means "did not fit".
    size_t n = libdeflate_gzip_compress(c_, in.empty() ? "" : in.data(), in.size(), dst, bound);
    if (n == 0) {
      error = "cannot gzip the batch: libdeflate's output did not fit its own bound";
      return false;
    }
    out.set_size(n);
    return true;
  }

 private:
  libdeflate_compressor* c_;
};

/// zstd's window, at most: RFC 9659 has HTTP's "zstd" coding keep the
/// window within 8 MiB so that a receiver's memory stays bounded. Levels
/// 1-19 stay within it anyway; 20-22 would use up to 128 MiB.
constexpr int kZstdMaxWindowLog = 23;

/// What libdeflate 1.14 allocates for a compressor of each level (1-12),
/// measured through libdeflate_set_memory_allocator (codec_test checks
/// it): the near-optimal parser of levels 10-12 keeps its match cache.
constexpr uint64_t kGzipStateBytes[] = {202759, 668295, 668295, 668295, 668295, 668295,
                                        668295, 668295, 668295, 9009543, 9009543, 9009543};

/// The level's parameters for a body of unknown size, the window capped,
/// the largest of the match finder's tables and the window halved in turn
/// until zstd's estimate of the context fits `most` bytes (or all are at
/// the smallest worth having: some hundreds of KiB in all).
ZSTD_compressionParameters zstd_params(int level, uint64_t most) {
  ZSTD_compressionParameters p = ZSTD_getCParams(level, ZSTD_CONTENTSIZE_UNKNOWN, 0);
  p.windowLog = std::min<unsigned>(p.windowLog, kZstdMaxWindowLog);
  // No larger tables than the window can use, as zstd makes them once it
  // knows the body's size (it leaves them as they are for an unknown size).
  p.hashLog = std::min(p.hashLog, p.windowLog + 1);
  p.chainLog = std::min(p.chainLog, p.windowLog + (p.strategy >= ZSTD_btlazy2 ? 1 : 0));
  while (ZSTD_estimateCCtxSize_usingCParams(p) > most) {
    unsigned* largest = &p.chainLog;
    if (p.hashLog > *largest) largest = &p.hashLog;
    if (p.windowLog > *largest) largest = &p.windowLog;
    if (*largest <= 16) break;
    --*largest;
  }
  return p;
}

/// RFC 8878 frames, one per body, with the content size and a checksum in
/// them (as the zstd tool writes). One-shot: zstd sizes its tables to the
/// body, up to the level's (and the window cap's) limit.
class ZstdCodec final : public Codec {
 public:
  explicit ZstdCodec(ZSTD_CCtx* c) : c_(c) {}
  ~ZstdCodec() override { ZSTD_freeCCtx(c_); }
  std::string_view encoding() const override { return "zstd"; }

  bool compress(std::string_view in, CodecBuffer& out, std::string& error) override {
    size_t bound = ZSTD_compressBound(in.size());
    if (ZSTD_isError(bound)) {
      error = fmt::format("cannot zstd the batch: {}", ZSTD_getErrorName(bound));
      return false;
    }
    char* dst = out.prepare(bound);
    if (!dst) {
      error = fmt::format("cannot zstd the batch: out of memory ({} bytes)", bound);
      return false;
    }
    size_t n = ZSTD_compress2(c_, dst, bound, in.data(), in.size());
    if (ZSTD_isError(n)) {
      error = fmt::format("cannot zstd the batch: {}", ZSTD_getErrorName(n));
      ZSTD_CCtx_reset(c_, ZSTD_reset_session_only);  // the next body starts a clean frame
      return false;
    }
    out.set_size(n);
    return true;
  }

 private:
  ZSTD_CCtx* c_;
};

}  // namespace

uint64_t Codec::state_bytes(CodecChoice choice, uint64_t most_state) {
  switch (choice.kind) {
    case CodecKind::None:
      return 0;
    case CodecKind::Gzip:
      return kGzipStateBytes[std::clamp(choice.level, 1, 12) - 1];
    case CodecKind::Zstd:
      return ZSTD_estimateCCtxSize_usingCParams(zstd_params(choice.level, most_state));
  }
  return 0;
}

std::unique_ptr<Codec> Codec::create(CodecChoice choice, std::string& error, uint64_t most_state) {
  switch (choice.kind) {
    case CodecKind::None:
      return nullptr;
    case CodecKind::Gzip: {
      libdeflate_compressor* c = libdeflate_alloc_compressor(choice.level);
      if (!c) {
        error = fmt::format("cannot set up gzip level {}: out of memory", choice.level);
        return nullptr;
      }
      return std::make_unique<GzipCodec>(c);
    }
    case CodecKind::Zstd: {
      ZSTD_CCtx* c = ZSTD_createCCtx();
      auto set = [c](ZSTD_cParameter what, int value) { return !ZSTD_isError(ZSTD_CCtx_setParameter(c, what, value)); };
      bool ok = c && set(ZSTD_c_compressionLevel, choice.level) && set(ZSTD_c_checksumFlag, 1) &&
                (choice.level < 20 || set(ZSTD_c_windowLog, kZstdMaxWindowLog));
      // Tables made smaller to fit: the level still sets the search and its
      // depth, and zstd still shrinks them further for a small body.
      ZSTD_compressionParameters full = zstd_params(choice.level, UINT64_MAX);
      ZSTD_compressionParameters p = zstd_params(choice.level, most_state);
      if (ok && (p.windowLog != full.windowLog || p.chainLog != full.chainLog || p.hashLog != full.hashLog))
        ok = set(ZSTD_c_windowLog, static_cast<int>(p.windowLog)) &&
             set(ZSTD_c_chainLog, static_cast<int>(p.chainLog)) && set(ZSTD_c_hashLog, static_cast<int>(p.hashLog));
      if (!ok) {
        ZSTD_freeCCtx(c);  // takes null
        error = fmt::format("cannot set up zstd level {}", choice.level);
        return nullptr;
      }
      return std::make_unique<ZstdCodec>(c);
    }
  }
  return nullptr;
}

}  // namespace batchpipe
