#include <catch2/catch.hpp>

#include "input/rotated_siblings.h"

using namespace batchpipe;

TEST_CASE("looks_rotated_name: logrotate's names for app.log, not other files", "[rotated_siblings]") {
  for (const char* name : {"app.log.1", "app.log.2.gz", "app.log-20261207", "app.log-20261207.gz", "app.log_old", "app.log.gz",
                           "app-20261207.log", "app.1.log", "app.1.log.gz", "app.log.ct1"})
    CHECK(looks_rotated_name("app.log", name));
  for (const char* name : {"app.log", "application.log", "app.logx", "app.log1", "other.log.1", "app",
                           "app.err", ".app.log.1", "app.1.err"})
    CHECK_FALSE(looks_rotated_name("app.log", name));
  CHECK(looks_rotated_name("syslog", "syslog.1"));
  CHECK_FALSE(looks_rotated_name("syslog", "syslogd"));
}

namespace {
const FileIdentity wanted{true, 1, 100, 0xabc, 1024};

Sibling sibling(std::string name, uint64_t inode, uint64_t print, uint64_t length, bool gzip = false,
                int64_t mtime = 0) {
  return {std::move(name), inode, gzip, print, length, mtime};
}
}  // namespace

TEST_CASE("choose_copy: the copy starts as the file did and holds at least the offset", "[rotated_siblings]") {
  std::vector<Sibling> s = {
      sibling("app.log.2", 7, 0xdef, 9000),       // another rotation's file
      sibling("other.log", 8, 0xabc, 9000),       // same bytes, but not a name of app.log's
      sibling("app.log.1", 100, 0xabc, 9000),     // the file itself (renamed), not a copy
      sibling("app.log.3", 9, 0xabc, 4000),       // a copy, but shorter than the offset
  };
  CopyChoice none = choose_copy("app.log", wanted, 5000, s);
  CHECK_FALSE(none.index);
  CHECK(none.shorter);
  s.push_back(sibling("app.log.1.ct", 10, 0xabc, 5000));
  CopyChoice c = choose_copy("app.log", wanted, 5000, s);
  REQUIRE(c.index);
  CHECK(s[*c.index].name == "app.log.1.ct");
  CHECK_FALSE(c.shorter);
}

TEST_CASE("choose_copy: plain before gzip, then the newest", "[rotated_siblings]") {
  std::vector<Sibling> s = {sibling("app.log.1.gz", 11, 0xabc, 8000, true, 50),
                            sibling("app.log.1", 12, 0xabc, 8000, false, 10),
                            sibling("app.log.2", 13, 0xabc, 8000, false, 20)};
  CHECK(s[*choose_copy("app.log", wanted, 100, s).index].name == "app.log.2");
  s.erase(s.begin() + 1, s.end());
  CHECK(s[*choose_copy("app.log", wanted, 100, s).index].name == "app.log.1.gz");
  std::vector<Sibling> unreadable = {{"app.log.1", 14, false, std::nullopt, 8000, 0}};  // fewer bytes than the print
  CHECK_FALSE(choose_copy("app.log", wanted, 0, unreadable).index);
}

TEST_CASE("choose_newer: the plain rotations written after the renamed file, oldest first", "[rotated_siblings]") {
  // The checkpoint's file (inode 100) is app.log.3 now; app.log is inode 40.
  std::vector<Sibling> s = {
      sibling("app.log.1", 31, 0, 10, false, 300),   // the newest rotation
      sibling("app.log.4", 5, 0, 10, false, 50),     // older than the renamed file
      sibling("app.log.3", 100, 0, 10, false, 100),  // the renamed file itself
      sibling("app.log.2", 22, 0, 10, false, 200),
      sibling("app.log.2.gz", 23, 0, 10, true, 250), // compressed: left out
      sibling("other.log", 24, 0, 10, false, 400),   // not a name of app.log's
      sibling("app.log-x", 40, 0, 10, false, 500),   // the name's file, under a second name
  };
  std::vector<size_t> newer = choose_newer("app.log", 100, 100, 40, s);
  std::vector<std::string> names;
  for (size_t i : newer) names.push_back(s[i].name);
  CHECK(names == std::vector<std::string>{"app.log.2", "app.log.1"});
  CHECK(choose_newer("app.log", 100, 1000, 40, s).empty());  // nothing written after it: one rotation
}
