#include <catch2/catch.hpp>

#include <vector>

#include "cli/cli.h"

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

TEST_CASE("--post takes one value; the files after it stay inputs") {
  CliResult r = parse({"--post", "http://a/", "x.ndjson", "--post", "http://b/", "y.ndjson"});
  REQUIRE(r.config);
  CHECK(r.config->post_urls == std::vector<std::string>{"http://a/", "http://b/"});
  CHECK(r.config->inputs == std::vector<std::string>{"x.ndjson", "y.ndjson"});
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

namespace {

std::string error_of(std::vector<const char*> args) {
  CliResult r = parse(std::move(args));
  CHECK_FALSE(r.config);
  CHECK(r.status == ExitStatus::Usage);
  CHECK(r.out.empty());
  CHECK(r.err.find('\n') == std::string::npos);
  return r.err;
}

}  // namespace

TEST_CASE("a scalar option given twice: the last one wins; lists accumulate", "[cli]") {
  CliResult r = parse({"--size", "1", "--size", "2", "--interval=1s", "--interval", "2s", "--on-invalid", "fail",
                       "--on-invalid", "quote", "--post", "http://a/", "--post", "http://b/", "-H", "A: 1", "-H",
                       "B: 2", "x", "y"});
  REQUIRE(r.config);
  CHECK(r.config->batch_size == 2);
  CHECK(r.config->interval == Duration(2s));
  CHECK(r.config->on_invalid == InvalidMode::Quote);
  CHECK(r.config->post_url == "http://a/");  // --post is a list: several URLs take turns
  CHECK(r.config->post_urls == std::vector<std::string>{"http://a/", "http://b/"});
  CHECK(r.config->headers == std::vector<std::string>{"A: 1", "B: 2"});
  CHECK(r.config->inputs == std::vector<std::string>{"x", "y"});
  CHECK(parse({"--stats", "--stats"}).config->stats == StatsFormat::Human);
}

TEST_CASE("usage errors are in our words, naming the flag and what it takes", "[cli]") {
  CHECK(error_of({"--size"}) == "--size: missing value; expected a whole number of at least 1 (try 'batchpipe --help')");
  CHECK(error_of({"--interval"}).rfind("--interval: missing value; expected a duration such as 250ms", 0) == 0);
  CHECK(error_of({"--on-invalid", "x"}) == "--on-invalid: expected skip, fail or quote, got 'x'");
  CHECK(error_of({"--on-error", "x", "--exec", "cat"}) == "--on-error: expected continue or stop, got 'x'");
  CHECK(error_of({"--exec", "cat", "--post", "http://h/"}).rfind("--exec and --post cannot be used together", 0) == 0);
  CHECK(error_of({"--sise", "5"}) == "unknown option --sise; did you mean --size? (try 'batchpipe --help')");
  CHECK(error_of({"--intreval=5"}) == "unknown option --intreval; did you mean --interval? (try 'batchpipe --help')");
  CHECK(error_of({"--frobnicate"}) == "unknown option --frobnicate (try 'batchpipe --help')");
  CHECK(error_of({"--stats=abc"}) == "--stats: expected human or json, got 'abc'");
  for (auto args : std::vector<std::vector<const char*>>{{"--size"}, {"--on-invalid", "x"}, {"--sise"}})
    CHECK(error_of(args).find("required") == std::string::npos);
}

TEST_CASE("sizes and durations out of range say why", "[cli]") {
  CHECK(error_of({"--max-bytes", "2G"}) == "--max-bytes: 2G is too large (at most 1G)");
  CHECK(error_of({"--max-bytes", "99999999999G"}) == "--max-bytes: 99999999999G is too large (at most 1G)");
  CHECK(error_of({"--max-bytes", "1.5"}) == "--max-bytes: 1.5 is not whole bytes");
  CHECK(error_of({"--max-bytes", "0.3K"}) == "--max-bytes: 0.3K is not whole bytes");
  CHECK(error_of({"--max-bytes", "8X"}).rfind("--max-bytes: expected a size such as", 0) == 0);
  CHECK(error_of({"--interval", "99999999999h"}) == "--interval: 99999999999h is too large");
  CHECK(error_of({"--size", "99999999999999999999999"}) == "--size: 99999999999999999999999 is too large");
  CHECK(error_of({"--interval", "soon"}).rfind("--interval: expected a duration such as", 0) == 0);
}

TEST_CASE("--interval: a bare number is seconds, and 60 or more is warned about", "[cli]") {
  CliResult r = parse({"--interval", "500"});
  REQUIRE(r.config);
  CHECK(r.config->interval == Duration(500s));
  CHECK(r.warnings == std::vector<std::string>{"--interval 500: 500 seconds; did you mean 500ms?"});
  CHECK(parse({"--interval", "59"}).warnings.empty());
  CHECK(parse({"--interval", "5m"}).warnings.empty());
  CHECK(parse({"--interval", "500ms"}).warnings.empty());
}

TEST_CASE("-H: Idempotency-Key is batchpipe's own", "[cli]") {
  CHECK_THAT(error_of({"--post", "http://h/", "-H", "idempotency-key: x"}),
             Catch::Contains("Idempotency-Key") && Catch::Contains("per batch"));
}

TEST_CASE("--post URLs are checked at start-up", "[cli]") {
  CHECK(error_of({"--post", "localhost:8080"}) == "--post localhost:8080: add a scheme, e.g. http://localhost:8080");
  CliResult r = parse({"--post", "http://u:p@h/", "--insecure"});
  REQUIRE(r.config);
  CHECK_FALSE(r.config->insecure);
  CHECK(r.warnings.size() == 2);
  CHECK(parse({"--post", "https://h/", "--insecure"}).config->insecure);
  CHECK(parse({"--post", "https://h/", "--insecure"}).warnings.empty());
}

TEST_CASE("--retries takes a count or inf") {
  CliResult r = parse({"--exec", "cat", "--retries", "inf"});
  REQUIRE(r.config);
  CHECK(r.config->retry.retries == kRetriesForever);
  r = parse({"--exec", "cat", "--retries", "7"});
  REQUIRE(r.config);
  CHECK(r.config->retry.retries == 7);
  r = parse({"--exec", "cat", "--retries", "infinity"});
  CHECK_FALSE(r.config);
  CHECK(r.err == "--retries: expected a whole number (0 for none) or inf, got 'infinity'");
  r = parse({"--exec", "cat", "--retries", "-1"});
  CHECK_FALSE(r.config);
}

TEST_CASE("--rate takes N/s or N/m") {
  CliResult r = parse({"--post", "http://127.0.0.1:1/", "--rate", "20/s"});
  REQUIRE(r.config);
  CHECK(r.config->rate.count == 20);
  CHECK(r.config->rate.per == Duration(1s));
  r = parse({"--exec", "cat", "--rate", "600/m"});
  REQUIRE(r.config);
  CHECK(r.config->rate.count == 600);
  CHECK(r.config->rate.per == Duration(60s));
  r = parse({"--exec", "cat"});
  REQUIRE(r.config);
  CHECK(r.config->rate.count == 0);
  for (const char* bad : {"20", "20/h", "/s", "0/s", "1.5/s", "-1/s", "20/"}) {
    r = parse({"--exec", "cat", "--rate", bad});
    CAPTURE(bad);
    CHECK_FALSE(r.config);
  }
  r = parse({"--exec", "cat", "--rate", "20/h"});
  CHECK(r.err == "--rate: expected requests per second or minute, such as 20/s or 600/m, got '20/h'");
  r = parse({"--rate", "20/s"});
  CHECK(r.err == "--rate: only applies with --exec or --post");
}

TEST_CASE("--checkpoint and --follow", "[cli]") {
  CliResult r = parse({"--checkpoint", "ck.json", "-F", "a.log"});
  REQUIRE(r.config);
  CHECK(r.config->checkpoint == "ck.json");
  CHECK(r.config->follow);
  CHECK(r.warnings.empty());
  CHECK_FALSE(parse({"a.log"}).config->follow);
  CliResult with_stdin = parse({"--checkpoint", "ck.json", "a.log", "-"});
  REQUIRE(with_stdin.config);
  REQUIRE(with_stdin.warnings.size() == 1);
  CHECK(with_stdin.warnings[0].starts_with("--checkpoint: stdin cannot be resumed"));
  CliResult follow_stdin = parse({"--follow"});
  REQUIRE(follow_stdin.warnings.size() == 1);
  CHECK(follow_stdin.warnings[0] == "--follow: stdin is read to its end as always; --follow follows files");
  CliResult empty = parse({"--checkpoint", ""});
  CHECK_FALSE(empty.config);
  CHECK(empty.err == "--checkpoint: the path is empty");
}

TEST_CASE("--parallel auto and auto:MAX") {
  CliResult fixed = parse({"--post", "http://a/", "-j", "8"});
  REQUIRE(fixed.config);
  CHECK(fixed.config->parallel == 8);
  CHECK_FALSE(fixed.config->parallel_auto);
  CliResult plain = parse({"--post", "http://a/", "--parallel", "auto"});
  REQUIRE(plain.config);
  CHECK(plain.config->parallel_auto);
  CHECK(plain.config->parallel == kDefaultAutoMax);
  CliResult capped = parse({"--post", "http://a/", "-j", "auto:12"});
  REQUIRE(capped.config);
  CHECK(capped.config->parallel_auto);
  CHECK(capped.config->parallel == 12);
  CHECK_FALSE(parse({"-j", "auto:0"}).config);
  CHECK_FALSE(parse({"-j", "auto:257"}).config);
  CHECK_FALSE(parse({"-j", "auto:"}).config);
  CHECK_FALSE(parse({"-j", "automatic"}).config);
  CHECK_FALSE(parse({"-j", "99999999999"}).config);
}

TEST_CASE("an option is not taken as the value of the option before it", "[cli]") {
  CHECK(error_of({"--compress", "--post", "http://h/"}) ==
        "--compress: missing value before --post; expected gzip[:LEVEL] (LEVEL 1-12, default 6) or zstd[:LEVEL] "
        "(LEVEL 1-22, default 3) (try 'batchpipe --help')");
  CHECK(error_of({"--exec", "--size", "5"}) ==
        "--exec: missing value before --size; expected a shell command (try 'batchpipe --help')");
  CHECK(error_of({"--post", "http://h/", "-H", "--x=1"}).starts_with("--header: missing value before --x;"));
  // Given with '=', or after "--", such a value is meant.
  CHECK(error_of({"--post", "http://h/", "--compress=--post"}) ==
        "--compress: unknown method '--post'; expected gzip[:LEVEL] (LEVEL 1-12, default 6) or zstd[:LEVEL] "
        "(LEVEL 1-22, default 3)");
  CliResult r = parse({"--size", "5", "--", "--size"});
  REQUIRE(r.config);
  CHECK(r.config->inputs == std::vector<std::string>{"--size"});
  // A value that merely starts with one '-' is still a value.
  CHECK(error_of({"--size", "-3"}).starts_with("--size: expected a whole number"));
}
