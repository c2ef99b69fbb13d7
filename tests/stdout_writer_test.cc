// The one writer of stdout: pieces in order, and what a reader gone means.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <csignal>
#include <string>

#include "base/diagnostics.h"
#include "commit/stdout_writer.h"

using namespace batchpipe;

TEST_CASE("pieces are written whole and in order, more than one writev's worth too", "[stdout_writer]") {
  int fd = ::memfd_create("out", MFD_CLOEXEC);
  REQUIRE(fd >= 0);
  StdoutWriter out(fd);
  std::vector<std::string> owned;
  for (int i = 0; i < 3000; ++i) owned.push_back(std::to_string(i) + (i % 7 ? "," : "\n"));
  owned.push_back("");  // an empty piece counts as written
  std::vector<std::string_view> pieces(owned.begin(), owned.end());
  CHECK(out.write(pieces) == pieces.size());
  std::string want;
  for (auto& s : owned) want += s;
  std::string got(want.size() + 1, '\0');
  CHECK(::pread(fd, got.data(), got.size(), 0) == static_cast<ssize_t>(want.size()));
  got.resize(want.size());
  CHECK(got == want);
  CHECK_FALSE(out.broken());
  ::close(fd);
}

TEST_CASE("a reader gone breaks the writer quietly; nothing after it is written", "[stdout_writer]") {
  std::signal(SIGPIPE, SIG_IGN);  // as batchpipe runs
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  ::close(p[0]);
  StdoutWriter out(p[1]);
  CHECK(out.write(std::vector<std::string_view>{"a", "b"}) == 0);
  CHECK(out.reader_gone());
  CHECK_FALSE(out.failed());
  CHECK_FALSE(out.write("c"));
  ::close(p[1]);
}

TEST_CASE("stdout closed at start: every write fails, and says so once", "[stdout_writer]") {
  diag::set_quiet(true);
  StdoutWriter out(-1);
  CHECK_FALSE(out.write("x"));
  CHECK(out.failed());
  CHECK_FALSE(out.reader_gone());
}
