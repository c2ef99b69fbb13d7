#include "sinks/codec.h"

#include <libdeflate.h>
#include <zstd.h>

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

std::unique_ptr<Codec> Codec::create(CodecChoice choice, std::string& error) {
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
      bool ok = c && !ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, choice.level)) &&
                !ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)) &&
                (choice.level < 20 ||
                 !ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, kZstdMaxWindowLog)));
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
