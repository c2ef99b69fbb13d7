#include <catch2/catch.hpp>

#include "input/resume.h"

using namespace batchpipe;

namespace {

ResumePoint saved() { return {{true, 1, 7, 1234, 1024}, 5000, 80}; }

FileNow now(uint64_t inode = 7, uint64_t size = 9000, std::optional<uint64_t> print = 1234) {
  FileNow n;
  n.identity = {true, 1, inode, 0, 0};
  n.size = size;
  n.saved_prefix_print = print;
  return n;
}

}  // namespace

TEST_CASE("the same file, as long or longer, resumes at the saved offset and line", "[resume]") {
  ResumeDecision d = decide_resume("app.log", saved(), now());
  CHECK(d.offset == 5000);
  CHECK(d.line == 80);
  CHECK(d.warning.empty());
  CHECK(decide_resume("app.log", saved(), now(7, 5000)).offset == 5000);  // read to its end: nothing new
}

TEST_CASE("another inode under the name is read from its start", "[resume]") {
  ResumeDecision d = decide_resume("app.log", saved(), now(8));
  CHECK(d.offset == 0);
  CHECK(d.line == 0);
  CHECK(d.warning == "app.log: not the file the checkpoint saw (another inode): reading it from the start");
}

TEST_CASE("a file that shrank or whose first bytes changed is read from its start", "[resume]") {
  ResumeDecision shorter = decide_resume("app.log", saved(), now(7, 4999));
  CHECK(shorter.offset == 0);
  CHECK(shorter.warning.find("shorter (4999 bytes) than the checkpoint's offset 5000") != std::string::npos);
  ResumeDecision rewritten = decide_resume("app.log", saved(), now(7, 9000, 999));
  CHECK(rewritten.offset == 0);
  CHECK(rewritten.warning.find("first bytes changed") != std::string::npos);
  // Fewer bytes than the fingerprint covered: truncated, even if longer than 0.
  CHECK(decide_resume("app.log", saved(), now(7, 9000, std::nullopt)).offset == 0);
}

TEST_CASE("gzip input resumes by decompressed offset, whatever its size on disk", "[resume]") {
  FileNow gz = now(7, 100);
  gz.gzip = true;
  CHECK(decide_resume("app.log.gz", saved(), gz).offset == 5000);
}
