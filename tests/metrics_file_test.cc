#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "report/metrics_file.h"

using namespace batchpipe;
namespace fs = std::filesystem;

namespace {

/// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "bp-metrics-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() { fs::remove_all(path_); }
  fs::path operator/(const std::string& name) const { return path_ / name; }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(path_)) out.push_back(entry.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  fs::path path_;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("metrics file: written whole, replaced whole, no temporary file left", "[metrics_file]") {
  TempDir dir;
  MetricsFile file((dir / "batchpipe.prom").string());
  CHECK(file.write("a 1\n") == "");
  CHECK(slurp(dir / "batchpipe.prom") == "a 1\n");
  CHECK(file.write("a 2\nb 3\n") == "");
  CHECK(slurp(dir / "batchpipe.prom") == "a 2\nb 3\n");
  CHECK(file.write("") == "");
  CHECK(slurp(dir / "batchpipe.prom") == "");
  CHECK(dir.names() == std::vector<std::string>{"batchpipe.prom"});
}

TEST_CASE("metrics file: replaced by rename, so a reader keeps the old text", "[metrics_file]") {
  TempDir dir;
  MetricsFile file((dir / "m.prom").string());
  REQUIRE(file.write("old\n") == "");
  std::ifstream reader(dir / "m.prom", std::ios::binary);  // open across the rewrite
  REQUIRE(file.write("new\n") == "");
  std::string seen;
  std::getline(reader, seen);
  CHECK(seen == "old");
  CHECK(slurp(dir / "m.prom") == "new\n");
}

TEST_CASE("metrics file: mode 0644 less the umask", "[metrics_file]") {
  TempDir dir;
  mode_t old = ::umask(022);
  CHECK(MetricsFile((dir / "m.prom").string()).write("x 1\n") == "");
  ::umask(old);
  struct stat st {};
  REQUIRE(::stat((dir / "m.prom").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
}

TEST_CASE("metrics file: errors name the path and leave nothing behind", "[metrics_file]") {
  TempDir dir;
  std::string missing = (dir / "no-such-dir" / "m.prom").string();
  CHECK(MetricsFile(missing).write("x 1\n") == "cannot write " + missing + ": No such file or directory");

  fs::create_directory(dir / "sub");
  std::string a_directory = (dir / "sub").string();
  CHECK(MetricsFile(a_directory).write("x 1\n") == "cannot write " + a_directory + ": Is a directory");
  CHECK(dir.names() == std::vector<std::string>{"sub"});
}

TEST_CASE("metrics file: a relative path without a directory", "[metrics_file]") {
  TempDir dir;
  fs::path before = fs::current_path();
  fs::current_path(dir / "");
  std::string error = MetricsFile("here.prom").write("x 1\n");
  fs::current_path(before);
  CHECK(error == "");
  CHECK(slurp(dir / "here.prom") == "x 1\n");
  CHECK(dir.names() == std::vector<std::string>{"here.prom"});
}
