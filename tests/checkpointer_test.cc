#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "commit/checkpointer.h"

using namespace batchpipe;

namespace {

FileIdentity file(uint64_t inode) { return {true, 1, inode, 42, 10}; }

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "bp-ckpter-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

std::unique_ptr<Checkpointer> open_at(const std::filesystem::path& ckpt, const std::vector<std::string>& inputs) {
  std::string error;
  auto c = Checkpointer::open(ckpt.string(), inputs, error);
  INFO(error);
  REQUIRE(c);
  return c;
}

}  // namespace

TEST_CASE("a file the checkpoint file does not name is to be written before a batch goes", "[checkpoint]") {
  TempDir dir;
  auto ckpt = dir.path / "ckpt.json";
  std::vector<std::string> inputs = {(dir.path / "a.log").string()};
  {
    auto c = open_at(ckpt, inputs);
    CHECK_FALSE(c->names_new_file());
    c->ledger().began(0, file(7), 0, 0);  // nothing saved yet: the first file is new
    CHECK(c->names_new_file());
    CHECK(c->names_new_file());  // until written
    REQUIRE(c->save(TimePoint{}));
    CHECK_FALSE(c->names_new_file());
    c->ledger().added();
    c->ledger().consumed(0, file(7), 10, 1);
    c->ledger().began(0, file(8), 0, 0);  // rotated: waits for the old file's record
    CHECK_FALSE(c->names_new_file());
    Batch b;
    b.records = 1;
    b.last = {0, 1, 0, 10, 0};
    c->ledger().committed(b, true);
    CHECK(c->names_new_file());
    REQUIRE(c->save(TimePoint{}));
    CHECK_FALSE(c->names_new_file());
  }
  // The next run resumes the file the checkpoint names: nothing new to write first.
  auto c = open_at(ckpt, inputs);
  c->ledger().began(0, file(8), 0, 0);
  CHECK_FALSE(c->names_new_file());
}
