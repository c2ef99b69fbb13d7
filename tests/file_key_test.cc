#include <catch2/catch.hpp>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "base/file_key.h"

using namespace batchpipe;

namespace {

std::string temp_dir() {
  char name[] = "/tmp/bp-file-key-XXXXXX";
  REQUIRE(::mkdtemp(name) != nullptr);
  return name;
}

}  // namespace

TEST_CASE("file keys: one existing file under several names is one key", "[file_key]") {
  std::string dir = temp_dir();
  std::string a = dir + "/a", link = dir + "/b";
  int fd = ::open(a.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::link(a.c_str(), link.c_str()) == 0);
  FileKey key = key_of_path(a);
  CHECK(key.exists);
  CHECK(key.regular);
  CHECK(key.same_file(key_of_path(link)));
  CHECK(key.same_file(key_of_path(dir + "/./a")));
  CHECK(key.same_file(key_of_fd(fd)));
  CHECK_FALSE(key.same_file(key_of_path(dir + "/not-yet")));
  ::close(fd);
  ::unlink(link.c_str());
  ::unlink(a.c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("file keys: a name yet to be created is keyed by its resolved directory", "[file_key]") {
  std::string dir = temp_dir();
  FileKey key = key_of_path(dir + "/new");
  CHECK_FALSE(key.exists);
  CHECK(key.same_file(key_of_path(dir + "/../" + dir.substr(dir.rfind('/') + 1) + "/new")));
  CHECK(key.same_file(key_of_path(dir + "//./new")));
  CHECK_FALSE(key.same_file(key_of_path(dir + "/other")));
  // A directory that does not exist keys nothing: such a name clashes with none.
  FileKey nowhere = key_of_path(dir + "/missing/new");
  CHECK_FALSE(nowhere.same_file(key_of_path(dir + "/missing/new")));
  ::rmdir(dir.c_str());
}

TEST_CASE("file keys: devices and pipes are never the same file", "[file_key]") {
  FileKey null = key_of_path("/dev/null");
  CHECK(null.exists);
  CHECK_FALSE(null.regular);
  CHECK_FALSE(null.same_file(key_of_path("/dev/null")));
}
