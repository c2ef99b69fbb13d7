#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "sinks/header_lines.h"
#include "sinks/header_source.h"

using namespace batchpipe;

namespace {

struct TempDir {
  TempDir() {
    char name[] = "/tmp/bp-hdr-XXXXXX";
    REQUIRE(::mkdtemp(name));
    path = name;
  }
  ~TempDir() { std::system(("rm -rf " + path).c_str()); }
  std::string path;
};

/// Writes a new file and renames it over `path`, as a token rotator does.
void replace(const std::string& path, const std::string& text) {
  std::string tmp = path + ".new";
  std::ofstream(tmp) << text;
  REQUIRE(::rename(tmp.c_str(), path.c_str()) == 0);
}

/// A source over the header file `path` (as the command line reads it) and
/// the fixed header "X-Fixed: 1"; warnings go to `warnings`.
HeaderSource source_of(const std::string& path, std::vector<std::string>& warnings) {
  HeaderPart file{path, {}, {}};
  int fd = ::open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  REQUIRE(stamp_of_fd(fd, file.stamp));
  ::close(fd);
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string error;
  REQUIRE(parse_header_file(text, path, file.lines, error));
  return HeaderSource({{"", {"X-Fixed: 1"}, {}}, std::move(file)}, {"cmdline-secret"},
                      [&](std::string_view w) { warnings.emplace_back(w); });
}

}  // namespace

TEST_CASE("header lines: one a line, comments and blanks skipped, a bad line named", "[headers]") {
  std::vector<std::string> headers;
  std::string error;
  CHECK(parse_header_file("# c\nA: 1\n\nB:  two \r\nC: 3", "f", headers, error));
  CHECK(headers == std::vector<std::string>{"A: 1", "B:  two", "C: 3"});
  headers.clear();
  CHECK_FALSE(parse_header_file("A: 1\nnot a header\n", "f", headers, error));
  CHECK(error == "--header: expected 'Name: value' on line 2 of f");
  CHECK_FALSE(parse_header("idempotency-key: x", "", error));
  CHECK(error.starts_with("--header: Idempotency-Key cannot be set"));
  std::vector<std::string> secrets;
  note_secret("Authorization: Bearer abc123", false, secrets);
  note_secret("X-Plain: visible", false, secrets);
  CHECK(secrets == std::vector<std::string>{"Bearer abc123", "abc123"});
}

TEST_CASE("a header file replaced is read again before the next request", "[headers]") {
  TempDir dir;
  std::string path = dir.path + "/token";
  replace(path, "Authorization: Bearer one\n");
  std::vector<std::string> warnings;
  HeaderSource source = source_of(path, warnings);
  REQUIRE(source.rereads());
  auto first = source.current();
  CHECK(first->all == std::vector<std::string>{"X-Fixed: 1", "Authorization: Bearer one"});
  CHECK(first->from_files == std::vector<std::string>{"Authorization: Bearer one"});
  CHECK(source.current() == first);  // unchanged: the same set, not read again

  replace(path, "Authorization: Bearer two\n");
  auto second = source.current();
  CHECK(second->version != first->version);
  CHECK(second->all == std::vector<std::string>{"X-Fixed: 1", "Authorization: Bearer two"});
  // The command line's secrets, and the file's last two versions, are redacted.
  for (const char* s : {"cmdline-secret", "Bearer one", "Bearer two", "two"})
    CHECK(std::find(second->secrets.begin(), second->secrets.end(), s) != second->secrets.end());

  replace(path, "Authorization: Bearer two\n");  // a new file, the same headers: the same version
  CHECK(source.current()->version == second->version);
  CHECK(warnings.empty());
}

TEST_CASE("a header file that goes bad keeps its last headers, with one warning per problem", "[headers]") {
  TempDir dir;
  std::string path = dir.path + "/token";
  replace(path, "Authorization: Bearer one\n");
  std::vector<std::string> warnings;
  HeaderSource source = source_of(path, warnings);
  uint64_t version = source.current()->version;

  REQUIRE(::unlink(path.c_str()) == 0);
  CHECK(source.current()->all.back() == "Authorization: Bearer one");
  CHECK(source.current()->version == version);
  REQUIRE(warnings.size() == 1);  // said once, not at every request
  CHECK(warnings[0] == "--header @" + path + ": cannot read it: No such file or directory; still sending the headers "
                       "read from it before (replace the file whole: write a new one and rename it over this one)");

  replace(path, "");
  CHECK(source.current()->all.back() == "Authorization: Bearer one");
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[1].find(": the file is empty (or holds only comments); still sending") != std::string::npos);

  replace(path, "Authorization Bearer missing-colon\n");
  CHECK(source.current()->all.back() == "Authorization: Bearer one");
  CHECK(source.current()->version == version);
  REQUIRE(warnings.size() == 3);
  CHECK(warnings[2] == "--header: expected 'Name: value' on line 1 of " + path +
                           "; still sending the headers read from it before");

  replace(path, "X-Tenant: {.tenant}\n");
  CHECK(source.current()->version == version);
  REQUIRE(warnings.size() == 4);
  CHECK(warnings[3].find("'X-Tenant' uses record fields") != std::string::npos);

  replace(path, "Authorization: Bearer three\n");
  CHECK(source.current()->all.back() == "Authorization: Bearer three");
  CHECK(warnings.size() == 4);
  REQUIRE(::unlink(path.c_str()) == 0);  // the same problem as before, after a good read: said again
  source.current();
  CHECK(warnings.size() == 5);
}

TEST_CASE("after a refusal the file is read again even if its stamp did not change", "[headers]") {
  TempDir dir;
  std::string path = dir.path + "/token";
  replace(path, "Authorization: Bearer aaa\n");
  std::vector<std::string> warnings;
  HeaderSource source = source_of(path, warnings);
  auto first = source.current();
  std::string why;
  CHECK(source.reread(why)->version == first->version);
  CHECK(why == "the header file, read again, is unchanged");

  // Rewritten in place, its size and modification time kept: read whatever the stamp says.
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  {
    std::ofstream out(path, std::ios::trunc);
    out << "Authorization: Bearer bbb\n";
  }
  timespec times[2] = {st.st_atim, st.st_mtim};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
  auto refused = source.reread(why);
  CHECK(refused->all.back() == "Authorization: Bearer bbb");
  CHECK(refused->version != first->version);

  REQUIRE(::unlink(path.c_str()) == 0);
  CHECK(source.reread(why)->all.back() == "Authorization: Bearer bbb");
  CHECK(why == "--header @" + path + " read again: cannot read it: No such file or directory");
}

TEST_CASE("headers without a file read again are one fixed set", "[headers]") {
  HeaderSource source({{"", {"A: 1"}, {}}}, {}, [](std::string_view) { FAIL("no warning expected"); });
  CHECK_FALSE(source.rereads());
  CHECK(source.current() == source.current());
  std::string why;
  CHECK(source.reread(why)->all == std::vector<std::string>{"A: 1"});
}
