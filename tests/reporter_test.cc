#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "report/reporter.h"

using namespace batchpipe;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("reporter: metrics file at start, when due and at exit", "[reporter]") {
  std::string dir = (fs::temp_directory_path() / "bp-reporter-XXXXXX").string();
  REQUIRE(::mkdtemp(dir.data()) != nullptr);
  struct Cleanup {
    std::string dir;
    ~Cleanup() { fs::remove_all(dir); }
  } cleanup{dir};

  Config config;
  config.metrics_file = dir + "/m.prom";
  Metrics metrics;
  TimePoint t0 = Clock::now();
  Reporter reporter(config, metrics, false, t0);
  REQUIRE(reporter.start() == "");
  std::string text = slurp(config.metrics_file);
  CHECK(has_line(text, "batchpipe_up 1"));
  CHECK(has_line(text, "batchpipe_records_read_total 0"));
  REQUIRE(reporter.deadline() == t0 + Reporter::kMetricsEvery);

  metrics.records.add(3);
  reporter.tick(t0 + 4999ms);  // not due: nothing written
  CHECK(has_line(slurp(config.metrics_file), "batchpipe_records_read_total 0"));
  reporter.tick(t0 + 5s);
  CHECK(has_line(slurp(config.metrics_file), "batchpipe_records_read_total 3"));
  CHECK(reporter.deadline() == t0 + 10s);

  metrics.records.add(1);
  reporter.finish();
  text = slurp(config.metrics_file);
  CHECK(has_line(text, "batchpipe_up 0"));
  CHECK(has_line(text, "batchpipe_records_read_total 4"));
}

TEST_CASE("reporter: the earliest deadline of the file and the progress line", "[reporter]") {
  Config config;
  Metrics metrics;
  TimePoint t0 = Clock::now();
  CHECK_FALSE(Reporter(config, metrics, true, t0).deadline());  // nothing to do, ever
  config.progress = true;
  CHECK(Reporter(config, metrics, false, t0).deadline() == t0 + Progress::kLineEvery);
  CHECK(Reporter(config, metrics, true, t0).deadline() == t0);  // a terminal: drawn at once
  config.metrics_file = "/nonexistent/m.prom";  // not written before start()
  CHECK(Reporter(config, metrics, false, t0).deadline() == t0 + Reporter::kMetricsEvery);
  CHECK(Reporter(config, metrics, false, t0).start() ==
        "--metrics-file: cannot write /nonexistent/m.prom: No such file or directory");
}
