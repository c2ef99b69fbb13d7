#include <catch2/catch.hpp>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "base/safe_file.h"

using namespace batchpipe;

namespace {

struct TempDir {
  std::string path;
  explicit TempDir(mode_t mode) {
    char name[] = "/tmp/bp-safe-file-XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    path = name;
    REQUIRE(::chmod(name, mode) == 0);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

struct stat stat_of(uid_t uid, mode_t mode) {
  struct stat st {};
  st.st_uid = uid;
  st.st_mode = mode;
  return st;
}

}  // namespace

TEST_CASE("create_temp_beside: a new hidden file with a random name each time", "[safe_file]") {
  TempDir dir(0700);
  std::string a, b;
  int fa = create_temp_beside(dir.path + "/m.prom", 0600, a);
  int fb = create_temp_beside(dir.path + "/m.prom", 0600, b);
  REQUIRE(fa >= 0);
  REQUIRE(fb >= 0);
  CHECK(a != b);
  CHECK(a.starts_with(dir.path + "/.m.prom."));
  CHECK(a.ends_with(".tmp"));
  CHECK(a.size() == (dir.path + "/.m.prom.").size() + 12 + 4);
  ::close(fa);
  ::close(fb);
}

TEST_CASE("open_no_planted_link: a link in a directory others can write is not followed", "[safe_file]") {
  TempDir shared(0777);
  std::string target = shared.path + "/target", link = shared.path + "/link";
  int t = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  REQUIRE(t >= 0);
  ::close(t);
  REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
  errno = 0;
  CHECK(open_no_planted_link(link, O_WRONLY | O_APPEND) == -1);
  CHECK(errno == ELOOP);
  CHECK(open_no_planted_link(link, O_RDWR | O_CREAT, 0600) == -1);
  CHECK(errno == ELOOP);
  // A dangling link is not created through either.
  std::string dangling = shared.path + "/dangling";
  REQUIRE(::symlink((shared.path + "/nowhere").c_str(), dangling.c_str()) == 0);
  CHECK(open_no_planted_link(dangling, O_RDWR | O_CREAT, 0600) == -1);
  CHECK(::access((shared.path + "/nowhere").c_str(), F_OK) != 0);
}

TEST_CASE("open_no_planted_link: a link in a directory of our own is followed", "[safe_file]") {
  TempDir own(0755);
  std::string target = own.path + "/target", link = own.path + "/link";
  int t = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  REQUIRE(t >= 0);
  ::close(t);
  REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
  int fd = open_no_planted_link(link, O_WRONLY | O_APPEND);
  CHECK(fd >= 0);
  if (fd >= 0) ::close(fd);
  int err = open_no_planted_link("/dev/stderr", O_WRONLY | O_APPEND);  // /dev is root's: followed
  if (err >= 0)
    ::close(err);
  else
    CHECK(errno != ELOOP);  // stderr may be a socket, which /proc/self/fd/2 cannot reopen
}

TEST_CASE("directory_is_trusted: only root's or ours, writable by no one else", "[safe_file]") {
  CHECK(directory_is_trusted(stat_of(0, S_IFDIR | 0755), 1000));
  CHECK(directory_is_trusted(stat_of(1000, S_IFDIR | 0700), 1000));
  CHECK_FALSE(directory_is_trusted(stat_of(0, S_IFDIR | 01777), 1000));  // /tmp
  CHECK_FALSE(directory_is_trusted(stat_of(0, S_IFDIR | 0775), 0));
  CHECK_FALSE(directory_is_trusted(stat_of(2000, S_IFDIR | 0755), 1000));
}

TEST_CASE("private_file_problem: another user's file, or one others can read, is refused", "[safe_file]") {
  CHECK(private_file_problem(stat_of(0, S_IFREG | 0600), 0).empty());
  CHECK(private_file_problem(stat_of(0, S_IFREG | 0640), 0).empty());  // shared with its group by its owner
  CHECK_THAT(private_file_problem(stat_of(65534, S_IFREG | 0600), 0),
             Catch::StartsWith("it belongs to another user (uid 65534, not 0)"));
  CHECK(private_file_problem(stat_of(0, S_IFREG | 0644), 0) ==
        "its mode 0644 lets other users read or change the records: chmod 600 it (or 640 to share it with its "
        "group)");
  CHECK_THAT(private_file_problem(stat_of(0, S_IFREG | 0660), 0), Catch::Contains("its group change"));
  CHECK_THAT(private_file_problem(stat_of(65534, S_IFIFO | 0666), 0), Catch::Contains("another user"));
  CHECK(private_file_problem(stat_of(0, S_IFCHR | 0666), 0).empty());  // /dev/null
  CHECK(private_file_problem(stat_of(1000, S_IFCHR | 0620), 0).empty());  // a terminal under sudo
}

TEST_CASE("owner_problem: only the owner matters", "[safe_file]") {
  CHECK(owner_problem(stat_of(0, S_IFREG | 0666), 0).empty());
  CHECK_THAT(owner_problem(stat_of(65534, S_IFREG | 0600), 0), Catch::Contains("remove it"));
}
