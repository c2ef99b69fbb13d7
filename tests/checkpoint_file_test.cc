#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "commit/checkpoint_file.h"

using namespace batchpipe;

namespace {

struct TempDir {
  TempDir() {
    char name[] = "/tmp/bp-ckpt-XXXXXX";
    REQUIRE(::mkdtemp(name));
    path = name;
  }
  ~TempDir() { std::system(("rm -rf " + path).c_str()); }
  std::string path;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("a checkpoint file is locked, written whole and read back", "[checkpoint]") {
  TempDir dir;
  std::string path = dir.path + "/ck.json";
  std::string error;
  std::optional<CheckpointFile> file = CheckpointFile::open(path, error);
  REQUIRE(file);
  CHECK(file->loaded().empty());
  CHECK(slurp(path) == "{\"version\": 1, \"files\": [\n]}\n");  // written at once: it can be

  std::string other_error;
  CHECK_FALSE(CheckpointFile::open(path, other_error));
  CHECK(other_error.find("is in use by another batchpipe") != std::string::npos);

  std::vector<CheckpointEntry> entries = {{"/var/log/a.log", {{true, 1, 2, 3, 4}, 50, 5}}};
  REQUIRE(file->save(entries, error));
  CHECK(::access((path + ".tmp").c_str(), F_OK) != 0);  // renamed over the file
  file.reset();  // unlocked

  std::optional<CheckpointFile> again = CheckpointFile::open(path, error);
  REQUIRE(again);
  REQUIRE(again->loaded().size() == 1);
  CHECK(again->loaded()[0].path == "/var/log/a.log");
  CHECK(again->loaded()[0].at.offset == 50);
}

TEST_CASE("a file that is not a checkpoint is refused, and left alone", "[checkpoint]") {
  TempDir dir;
  std::string path = dir.path + "/ck.json";
  std::ofstream(path) << "{\"version\": 2}";
  std::string error;
  CHECK_FALSE(CheckpointFile::open(path, error));
  CHECK(error == "--checkpoint: " + path + " is not a batchpipe checkpoint: no \"version\": 1; fix or remove it");
  CHECK(slurp(path) == "{\"version\": 2}");
}

TEST_CASE("the lock follows the checkpoint file, not its name; a save keeps a link a link", "[checkpoint]") {
  TempDir dir;
  std::string path = dir.path + "/ck";
  std::string alias = dir.path + "/ck2";
  REQUIRE(::symlink("ck", alias.c_str()) == 0);  // dangling: the file is not made yet
  std::string error;
  std::optional<CheckpointFile> first = CheckpointFile::open(alias, error);
  REQUIRE(first);
  std::string other_error;
  CHECK_FALSE(CheckpointFile::open(path, other_error));
  CHECK(other_error.find("is in use by another batchpipe") != std::string::npos);
  std::vector<CheckpointEntry> entries = {{"/var/log/a.log", {{true, 1, 2, 3, 4}, 50, 5}}};
  REQUIRE(first->save(entries, error));
  char target[64] = {};
  CHECK(::readlink(alias.c_str(), target, sizeof target - 1) == 2);  // still the link
  CHECK(std::string(target) == "ck");
  CHECK(slurp(path).find("/var/log/a.log") != std::string::npos);
  first.reset();
  std::optional<CheckpointFile> by_file = CheckpointFile::open(path, error);
  REQUIRE(by_file);
  other_error.clear();
  CHECK_FALSE(CheckpointFile::open(alias, other_error));
  CHECK(other_error.find("is in use by another batchpipe") != std::string::npos);
}
