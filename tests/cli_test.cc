#include <catch2/catch.hpp>

#include <vector>

#include "cli.h"

using namespace batchpipe;
using namespace std::chrono_literals;

namespace {

CliResult parse(std::vector<const char*> args) {
  args.insert(args.begin(), "batchpipe");
  return parse_cli(static_cast<int>(args.size()), args.data());
}

}  // namespace

TEST_CASE("defaults") {
  CliResult r = parse({});
  REQUIRE(r.config);
  CHECK(r.config->inputs == std::vector<std::string>{"-"});
  CHECK(r.config->batch_size == 1000);
  CHECK(r.config->interval == Duration(500ms));
  CHECK(r.config->max_bytes == 8u << 20);
  CHECK(r.config->on_invalid == InvalidMode::Skip);
  CHECK(r.config->stats == StatsFormat::None);
  CHECK_FALSE(r.config->quiet);
}

TEST_CASE("options and files") {
  CliResult r = parse({"--size", "5", "--interval", "1.5s", "--max-bytes", "64K", "--on-invalid",
                       "quote", "--stats", "-q", "a.ndjson", "-", "b.ndjson"});
  REQUIRE(r.config);
  CHECK(r.config->batch_size == 5);
  CHECK(r.config->interval == Duration(1500ms));
  CHECK(r.config->max_bytes == 65536);
  CHECK(r.config->on_invalid == InvalidMode::Quote);
  CHECK(r.config->stats == StatsFormat::Human);
  CHECK(r.config->quiet);
  CHECK(r.config->inputs == std::vector<std::string>{"a.ndjson", "-", "b.ndjson"});
  CHECK(parse({"--interval=0"}).config->interval == Duration(0s));
}

TEST_CASE("-H takes one value; the files after it stay inputs") {
  CliResult r = parse({"--post", "http://127.0.0.1:1/", "-H", "X-A: b", "x:y.ndjson", "-H", "X-C: d", "z.ndjson"});
  REQUIRE(r.config);
  CHECK(r.config->headers == std::vector<std::string>{"X-A: b", "X-C: d"});
  CHECK(r.config->inputs == std::vector<std::string>{"x:y.ndjson", "z.ndjson"});
}

TEST_CASE("usage errors name the flag and exit 2") {
  for (auto args : std::vector<std::vector<const char*>>{{"--size", "0"},
                                                         {"--size", "-3"},
                                                         {"--size", "ten"},
                                                         {"--interval", "soon"},
                                                         {"--max-bytes", "lots"},
                                                         {"--max-bytes", "2"},
                                                         {"--max-bytes", "2G"},
                                                         {"--on-invalid", "ignore"},
                                                         {"--bogus"}}) {
    CliResult r = parse(args);
    CHECK_FALSE(r.config);
    CHECK(r.status == ExitStatus::Usage);
    CHECK(r.err.find(args[0]) != std::string::npos);
    CHECK(r.err.find('\n') == std::string::npos);
    CHECK(r.out.empty());
  }
}

TEST_CASE("--help and --version go to stdout and succeed") {
  CliResult help = parse({"--help"});
  CHECK_FALSE(help.config);
  CHECK(help.status == ExitStatus::Success);
  CHECK(help.out.find("--max-bytes") != std::string::npos);
  CliResult version = parse({"--version"});
  CHECK(version.status == ExitStatus::Success);
  CHECK(version.out.rfind("batchpipe ", 0) == 0);
}

TEST_CASE("--metrics-file takes a path", "[cli]") {
  CHECK(parse({}).config->metrics_file.empty());
  CliResult r = parse({"--metrics-file", "/var/lib/node-exporter/bp.prom", "in.ndjson"});
  REQUIRE(r.config);
  CHECK(r.config->metrics_file == "/var/lib/node-exporter/bp.prom");
  CHECK(r.config->inputs == std::vector<std::string>{"in.ndjson"});
  for (auto args : std::vector<std::vector<const char*>>{{"--metrics-file"}, {"--metrics-file", ""}}) {
    CliResult bad = parse(args);
    CHECK_FALSE(bad.config);
    CHECK(bad.status == ExitStatus::Usage);
    CHECK(bad.err.find("--metrics-file") != std::string::npos);
  }
}

TEST_CASE("--progress is a flag", "[cli]") {
  CHECK_FALSE(parse({}).config->progress);
  CliResult r = parse({"--progress", "in.ndjson"});
  REQUIRE(r.config);
  CHECK(r.config->progress);
  CHECK(r.config->inputs == std::vector<std::string>{"in.ndjson"});
}
