#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "cli/output_clash.h"

using namespace batchpipe;

namespace {

FileKey existing(uint64_t inode) {
  FileKey key;
  key.exists = key.regular = true;
  key.device = 1;
  key.inode = inode;
  return key;
}

FileKey future(std::string path) {
  FileKey key;
  key.future = std::move(path);
  return key;
}

}  // namespace

TEST_CASE("output clash: an output that is an input names both", "[output_clash]") {
  CHECK(find_output_clash({{"--metrics-file events.ndjson", existing(7)}}, {{"the input events.ndjson", existing(7)}}) ==
        "--metrics-file events.ndjson is also the input events.ndjson: batchpipe would write over what it reads; "
        "give the file batchpipe writes a name of its own");
  CHECK_THAT(find_output_clash({{"--checkpoint cp", existing(3)}}, {{"the input a", existing(2)},
                                                                     {"the standard input", existing(3)}}),
             Catch::StartsWith("--checkpoint cp is also the standard input"));
  CHECK(find_output_clash({{"--checkpoint cp", existing(3)}}, {{"the input a", existing(2)}}).empty());
}

TEST_CASE("output clash: an output with words of its own for being an input uses them", "[output_clash]") {
  NamedFile dead{"--dead-letter d", existing(3), "replaying it never ends: move it aside"};
  CHECK(find_output_clash({dead}, {{"the input a", existing(2)}, {"the standard input", existing(3)}}) ==
        "--dead-letter d: it is also the standard input; replaying it never ends: move it aside");
  // Its words are for being an input only: another output on it is the general clash.
  CHECK_THAT(find_output_clash({dead, {"--checkpoint d", existing(3)}}, {}),
             Catch::StartsWith("--dead-letter d and --checkpoint d are the same file"));
}

TEST_CASE("output clash: two outputs that are one file, existing or not", "[output_clash]") {
  CHECK(find_output_clash({{"--dead-letter f", future("/d/f")}, {"--checkpoint f", future("/d/f")}}, {}) ==
        "--dead-letter f and --checkpoint f are the same file: each would destroy what the other wrote; give each "
        "a name of its own");
  CHECK_THAT(find_output_clash({{"--dead-letter d", existing(5)}, {"--checkpoint c", future("/d/c")},
                                {"--metrics-file m", existing(5)}},
                               {}),
             Catch::StartsWith("--dead-letter d and --metrics-file m are the same file"));
  CHECK(find_output_clash({{"--dead-letter f", future("/d/f")}, {"--checkpoint g", future("/d/g")}}, {}).empty());
  // An existing file and a name yet to be created are two files.
  CHECK(find_output_clash({{"--dead-letter f", existing(4)}, {"--checkpoint g", future("/d/f")}}, {}).empty());
}

TEST_CASE("output clash: devices and unresolvable names clash with nothing", "[output_clash]") {
  FileKey null = existing(9);
  null.regular = false;
  CHECK(find_output_clash({{"--dead-letter /dev/null", null}}, {{"the standard input", null}}).empty());
  CHECK(find_output_clash({{"--dead-letter a", future("")}, {"--checkpoint b", future("")}}, {}).empty());
}

TEST_CASE("output clash: a file inside a directory, existing or not", "[output_clash]") {
  char tmpl[] = "/tmp/output_clash_test.XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  CHECK(in_directory(dir + "/00000000000000000000.ndjson", dir));
  CHECK(in_directory(dir + "/./x", dir + "/"));
  CHECK_FALSE(in_directory(dir + "/sub/x", dir));  // neither sub nor x exists: another directory
  CHECK_FALSE(in_directory(dir, dir));             // the directory itself is not in it
  // Neither exists yet: by name.
  CHECK(in_directory(dir + "/new/x", dir + "/new"));
  CHECK_FALSE(in_directory(dir + "/other/x", dir + "/new"));
  ::rmdir(tmpl);
}
