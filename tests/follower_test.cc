#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "input/follower.h"

using namespace batchpipe;

namespace {

/// A fresh directory, removed (with what is in it) at the end of the test.
struct TempDir {
  TempDir() {
    char name[] = "/tmp/bp-follow-XXXXXX";
    REQUIRE(::mkdtemp(name));
    path = name;
  }
  ~TempDir() { (void)!std::system(("rm -rf " + path).c_str()); }
  std::string path;
};

void write_file(const std::string& path, const std::string& text, bool append = false) {
  std::ofstream out(path, append ? std::ios::app : std::ios::trunc);
  out << text;
}

}  // namespace

TEST_CASE("look: nothing new, rotated by rename, truncated below the read offset", "[follower]") {
  TempDir dir;
  std::string log = dir.path + "/app.log";
  write_file(log, "{\"a\":1}\n{\"a\":2}\n");
  int fd = ::open(log.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  char buf[64];
  REQUIRE(::read(fd, buf, sizeof buf) == 16);
  CHECK(Follower::look(log, fd, true).kind == FileNews::None);

  write_file(log, "{}\n");  // truncated in place (as copytruncate does), then written again
  FileNews t = Follower::look(log, fd, true);
  CHECK(t.kind == FileNews::Truncated);
  CHECK(t.size == 3);
  CHECK(t.read_to == 16);
  CHECK(Follower::look(log, fd, false).kind == FileNews::None);  // decompressed offsets say nothing

  REQUIRE(std::rename(log.c_str(), (log + ".1").c_str()) == 0);
  CHECK(Follower::look(log, fd, true).kind == FileNews::Truncated);  // no new file yet: still the old one's news
  write_file(log, "{\"new\":1}\n");
  CHECK(Follower::look(log, fd, true).kind == FileNews::Rotated);
  ::close(fd);
  CHECK(Follower::look(log, fd, true).kind == FileNews::Unknown);
}

TEST_CASE("wait: news from the watched directory ends it early; the stop latch ends following", "[follower]") {
  TempDir dir;
  std::string log = dir.path + "/app.log";
  int stop = ::eventfd(0, EFD_CLOEXEC);
  REQUIRE(stop >= 0);
  {
    Follower follower(stop);
    follower.watch(log);  // not there yet: its directory is watched
    write_file(log, "{}\n");
    auto start = std::chrono::steady_clock::now();
    CHECK(follower.wait({}));
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(Follower::kPollMs));
    uint64_t one = 1;
    REQUIRE(::write(stop, &one, sizeof one) == sizeof one);
    CHECK_FALSE(follower.wait({}));
  }
  ::close(stop);
}

TEST_CASE("wait: a pipe with data ends it early", "[follower]") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  Follower follower(-1);
  REQUIRE(::write(p[1], "x", 1) == 1);
  auto start = std::chrono::steady_clock::now();
  CHECK(follower.wait({p[0]}));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(Follower::kPollMs));
  ::close(p[0]);
  ::close(p[1]);
}
