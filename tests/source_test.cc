#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <string>

#include "fake_source.h"
#include "input/fd_source.h"
#include "input/gzip_source.h"

using namespace batchpipe;

namespace {

/// `text` as one gzip member.
std::string gzip(const std::string& text) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

/// `bytes` cut into reads of `size`.
std::deque<std::string> reads_of(const std::string& bytes, size_t size) {
  std::deque<std::string> reads;
  for (size_t i = 0; i < bytes.size(); i += size) reads.push_back(bytes.substr(i, size));
  return reads;
}

/// Everything `gz` decompresses to, read as InputReader does: the first read
/// comes from the raw source and is handed to start(). Stops at an error.
std::string inflate_all(const std::string& compressed, size_t read_size, uint64_t skip, std::string& error,
                        size_t out_room = 7) {
  auto raw = std::make_unique<FakeSource>(reads_of(compressed, read_size));
  std::string first(read_size, '\0');
  ssize_t n = raw->read(first.data(), first.size(), error);
  REQUIRE(n > 0);
  GzipSource source(std::move(raw), skip);
  REQUIRE(source.start(first.data(), static_cast<size_t>(n), error));
  std::string out;
  char buf[64];
  for (;;) {
    ssize_t got = source.read(buf, std::min(out_room, sizeof buf), error);
    if (got == Source::kAgain) continue;
    if (got <= 0) break;
    out.append(buf, static_cast<size_t>(got));
  }
  return out;
}

}  // namespace

TEST_CASE("gzip members follow one another as one stream, whatever the read edges", "[source]") {
  std::string text1 = "{\"a\":1}\n{\"b\"", text2 = ":2}\n{\"c\":3}\n";
  std::string both = gzip(text1) + gzip(text2);
  for (size_t read = 1; read <= both.size(); ++read) {
    std::string error;
    INFO("read size " << read);
    CHECK(inflate_all(both, read, 0, error) == text1 + text2);
    CHECK(error.empty());
  }
}

TEST_CASE("a gzip resume drops the first decompressed bytes, across members", "[source]") {
  std::string text1 = "{\"a\":1}\n", text2 = "{\"b\":2}\n";
  std::string both = gzip(text1) + gzip(text2);
  for (uint64_t skip : {0, 3, 8, 11, 16}) {
    std::string error;
    CHECK(inflate_all(both, 5, skip, error) == (text1 + text2).substr(skip));
  }
}

TEST_CASE("a gzip stream cut short inside a member is an error that says how far it got", "[source]") {
  std::string whole = gzip(std::string(1000, 'x') + "\n");
  std::string error;
  inflate_all(whole.substr(0, whole.size() - 6), 16, 0, error);
  CHECK(error.find("after ") != std::string::npos);
  CHECK(error.find("compressed bytes") != std::string::npos);
}

TEST_CASE("a read error of the raw source is told with the gzip position", "[source]") {
  std::string whole = gzip("{}\n");
  auto raw = std::make_unique<FakeSource>(std::deque<std::string>{});
  raw->fail_at_end("read error: Input/output error");
  GzipSource source(std::move(raw), 0);
  std::string error;
  REQUIRE(source.start(whole.data(), 4, error));
  char buf[64];
  ssize_t n = 0;
  for (int i = 0; i < 100 && (n = source.read(buf, sizeof buf, error)) != Source::kError && n != 0; ++i) {
  }
  CHECK(n == Source::kError);
  CHECK(error.rfind("read error: Input/output error (after 4 compressed bytes", 0) == 0);
}

TEST_CASE("a pipe: bytes, then kAgain while the writer is quiet, then the end", "[source]") {
  int p[2];
  REQUIRE(::pipe2(p, O_NONBLOCK) == 0);
  FdSource source(p[0]);
  std::string error;
  char buf[16];
  CHECK(source.read(buf, sizeof buf, error) == Source::kAgain);
  REQUIRE(::write(p[1], "ab\n", 3) == 3);
  CHECK(source.read(buf, sizeof buf, error) == 3);
  ::close(p[1]);
  CHECK(source.read(buf, sizeof buf, error) == 0);
  CHECK(source.fd() == p[0]);
}

TEST_CASE("opening a missing file fails with its errno; stdin is never closed", "[source]") {
  errno = 0;
  CHECK(FdSource::open("/nonexistent/batchpipe-source-test") == nullptr);
  CHECK(errno == ENOENT);
  {
    auto in = FdSource::open("-");
    REQUIRE(in);
    CHECK(in->fd() == STDIN_FILENO);
  }
  CHECK(::fcntl(STDIN_FILENO, F_GETFD) != -1);
}
