#include <catch2/catch.hpp>

#include "commit/checkpoint_format.h"

using namespace batchpipe;

TEST_CASE("a checkpoint reads back as it was written", "[checkpoint]") {
  std::vector<CheckpointEntry> in = {{"/var/log/app.log", {{true, 2049, 131, 0xcbf29ce484222325ULL, 1024}, 52311, 880}},
                                     {"/tmp/a \"b\".log", {{true, 1, 2, 3, 0}, 0, 0}}};
  std::string text = format_checkpoint(in);
  CHECK(text.starts_with("{\"version\": 1, \"files\": [\n{\"path\": \"/var/log/app.log\", \"device\": 2049, "
                         "\"inode\": 131, \"fingerprint\": \"cbf29ce484222325\""));
  std::vector<CheckpointEntry> out;
  std::string error;
  REQUIRE(parse_checkpoint(text, out, error));
  REQUIRE(out.size() == 2);
  CHECK(out[0].path == "/var/log/app.log");
  CHECK(out[0].at.identity == in[0].at.identity);
  CHECK(out[0].at.offset == 52311);
  CHECK(out[0].at.line == 880);
  CHECK(out[1].path == "/tmp/a \"b\".log");
}

TEST_CASE("an empty file is an empty checkpoint; anything else must be one", "[checkpoint]") {
  std::vector<CheckpointEntry> out;
  std::string error;
  CHECK(parse_checkpoint("", out, error));
  CHECK(parse_checkpoint(" \n", out, error));
  CHECK(out.empty());
  CHECK_FALSE(parse_checkpoint("{\"version\": 1, \"files\": [", out, error));
  CHECK(error.starts_with("not JSON"));
  CHECK_FALSE(parse_checkpoint("{\"files\": []}", out, error));
  CHECK(error == "no \"version\": 1");
  CHECK_FALSE(parse_checkpoint("{\"version\": 1, \"files\": [{\"path\": \"rel.log\"}]}", out, error));
  CHECK(error == "file 1 of \"files\": \"path\" must be an absolute path");
  CHECK_FALSE(parse_checkpoint("{\"version\": 1, \"files\": [{\"path\": \"/a\", \"device\": 1, \"inode\": 2, "
                               "\"fingerprint\": \"xyz\", \"fingerprint_bytes\": 3, \"offset\": -4, \"line\": 0}]}",
                               out, error));
  CHECK(error.find("whole numbers") != std::string::npos);
}

TEST_CASE("relative input names are made absolute without resolving links", "[checkpoint]") {
  CHECK(absolute_path("app.log", "/var/log") == "/var/log/app.log");
  CHECK(absolute_path("./x/../app.log", "/var/log") == "/var/log/app.log");
  CHECK(absolute_path("/srv/a.log", "/var/log") == "/srv/a.log");
}
