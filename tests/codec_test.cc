#include <catch2/catch.hpp>

#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <fstream>
#include <string>

#include "sinks/codec.h"

using namespace batchpipe;

namespace {

std::unique_ptr<Codec> make(CodecChoice choice) {
  std::string error;
  auto codec = Codec::create(choice, error);
  REQUIRE(codec);
  CHECK(error.empty());
  return codec;
}

/// Decoded by zlib, not by libdeflate: the gzip bodies must suit any reader.
std::string gunzip(std::string_view gz) {
  z_stream z{};
  REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
  std::string out;
  char buf[1 << 16];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  CHECK(rc == Z_STREAM_END);
  CHECK(z.avail_in == 0);  // one member, nothing after it
  inflateEnd(&z);
  return out;
}

std::string unzstd(std::string_view frame) {
  unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  REQUIRE(size != ZSTD_CONTENTSIZE_UNKNOWN);  // written in the frame: a receiver may size its buffer
  REQUIRE(size != ZSTD_CONTENTSIZE_ERROR);
  std::string out(size, '\0');
  size_t n = ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size());
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

std::string decode(const Codec& codec, std::string_view body) {
  return codec.encoding() == "gzip" ? gunzip(body) : unzstd(body);
}

/// `n` bytes of NDJSON-like records that vary as logs do: compressible, not trivially.
std::string records(size_t n, uint32_t seed = 1) {
  static const char* const kWords[] = {"alpha", "beta", "queue", "retry", "ok", "delta", "GET", "/health", "node-3"};
  std::string s;
  s.reserve(n + 256);
  uint32_t x = seed;
  for (uint64_t i = 0; s.size() < n; ++i) {
    s += "{\"seq\":" + std::to_string(i) + ",\"msg\":\"";
    for (int w = 0; w < 8; ++w) {
      x = x * 1664525u + 1013904223u;
      s += kWords[(x >> 16) % 9];
      s += ' ';
    }
    s += "\",\"ms\":" + std::to_string(x % 100000) + "}\n";
  }
  s.resize(n);
  return s;
}

/// Resident bytes of this process now (/proc/self/statm).
size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

const CodecChoice kChoices[] = {{CodecKind::Gzip, 1}, {CodecKind::Gzip, 6}, {CodecKind::Gzip, 12},
                                {CodecKind::Zstd, 1}, {CodecKind::Zstd, 3}, {CodecKind::Zstd, 19}};

}  // namespace

TEST_CASE("no codec without --compress", "[codec]") {
  std::string error;
  CHECK_FALSE(Codec::create({}, error));
  CHECK(error.empty());
}

TEST_CASE("codecs round-trip bodies of every size, the codec and its buffer reused", "[codec]") {
  for (CodecChoice choice : kChoices) {
    INFO(codec_name(choice));
    auto codec = make(choice);
    CHECK(codec->encoding() == (choice.kind == CodecKind::Gzip ? "gzip" : "zstd"));
    CodecBuffer out;
    std::string error;
    // 256 KiB is a default batch of `logs` records; larger bodies are the next test's.
    for (size_t size : {size_t{0}, size_t{1}, size_t{300}, size_t{256} << 10, size_t{1000}}) {
      INFO(size);
      std::string in = records(size, static_cast<uint32_t>(size));
      REQUIRE(codec->compress(in, out, error));
      CHECK(error.empty());
      CHECK(decode(*codec, out.view()) == in);
      if (size >= (256 << 10)) CHECK(out.size() * 4 < in.size());  // it did compress
    }
    CHECK(out.capacity() >= (size_t{256} << 10));  // kept from the largest body
  }
}

TEST_CASE("an empty body compresses to a valid empty stream", "[codec]") {
  for (CodecChoice choice : kChoices) {
    INFO(codec_name(choice));
    auto codec = make(choice);
    CodecBuffer out;
    std::string error;
    REQUIRE(codec->compress({}, out, error));
    CHECK(out.size() > 0);
    CHECK(decode(*codec, out.view()).empty());
  }
}

TEST_CASE("incompressible bodies round-trip within the buffer's bound", "[codec]") {
  std::string in(1 << 20, '\0');
  uint64_t x = 88172645463325252ull;
  for (char& c : in) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>(x);
  }
  for (CodecChoice choice : {CodecChoice{CodecKind::Gzip, 6}, CodecChoice{CodecKind::Zstd, 3}}) {
    auto codec = make(choice);
    CodecBuffer out;
    std::string error;
    REQUIRE(codec->compress(in, out, error));
    CHECK(decode(*codec, out.view()) == in);
    CHECK(out.size() < in.size() + in.size() / 100 + 1024);
  }
}

// The contract at 1 GiB (the largest --max-bytes) is that memory beyond the
// body and its compressed form does not grow with the body. 48 MiB proves
// that as well (the codec's state is a few MiB at most, far below the body)
// in about a second, where 1 GiB would take the suite ~15 s and 1.2 GiB of RAM.
TEST_CASE("a large body is compressed in memory bounded by its compressed size plus a fixed state", "[codec]") {
  const std::string in = records(48 << 20, 7);
  for (CodecChoice choice : {CodecChoice{CodecKind::Gzip, 6}, CodecChoice{CodecKind::Zstd, 3}}) {
    INFO(codec_name(choice));
    size_t before = resident_bytes();
    auto codec = make(choice);
    CodecBuffer out;
    std::string error;
    REQUIRE(codec->compress(in, out, error));
    size_t grown = resident_bytes() - std::min(before, resident_bytes());
    CHECK(out.capacity() >= out.size());
    CHECK(out.size() * 4 < in.size());
    // The bound the buffer was allocated at is not touched past what was
    // written. AddressSanitizer adds its shadow of the whole allocation (1/8).
#if defined(__SANITIZE_ADDRESS__)
    const size_t slack = (8u << 20) + in.size() / 8 + out.capacity() / 8;
#else
    const size_t slack = 8u << 20;
#endif
    CHECK(grown < out.size() + slack);
    CHECK(decode(*codec, out.view()) == in);
  }
}

TEST_CASE("zstd keeps its window within RFC 9659's 8 MiB at every level", "[codec]") {
  // Level 20 would use a 32 MiB window on a body over 8 MiB, and a receiver
  // that keeps to 8 MiB, as this decoder does, would refuse it. A body that
  // repeats itself keeps level 20 quick (long matches are taken at once).
  std::string in;
  const std::string block = records(256 << 10, 3);
  while (in.size() < (9u << 20)) in += block;
  auto codec = make({CodecKind::Zstd, 20});
  CodecBuffer out;
  std::string error;
  REQUIRE(codec->compress(in, out, error));
  ZSTD_DCtx* d = ZSTD_createDCtx();
  REQUIRE(d);
  REQUIRE_FALSE(ZSTD_isError(ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, 23)));
  // Streaming into small pieces, as a receiver decodes: with room for the
  // whole content at once, zstd decodes in one pass and checks no window.
  std::string back;
  char piece[128 << 10];
  ZSTD_inBuffer src{out.view().data(), out.size(), 0};
  size_t left = 1;
  while (src.pos < src.size || left != 0) {
    ZSTD_outBuffer dst{piece, sizeof piece, 0};
    left = ZSTD_decompressStream(d, &dst, &src);
    if (ZSTD_isError(left)) break;
    back.append(piece, dst.pos);
    if (dst.pos == 0 && src.pos == src.size) break;
  }
  ZSTD_freeDCtx(d);
  INFO((ZSTD_isError(left) ? ZSTD_getErrorName(left) : "ok"));
  REQUIRE_FALSE(ZSTD_isError(left));
  CHECK(left == 0);
  CHECK(back == in);
}
