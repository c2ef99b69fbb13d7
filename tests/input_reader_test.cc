#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <fcntl.h>
#include <unistd.h>

#include "input/input_reader.h"
#include "input/rotated_siblings.h"

using namespace batchpipe;

namespace {

/// A file with `text` in it, removed at the end of the test.
struct TempFile {
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/bp-reader-XXXXXX";
    int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fd);
    path = name;
  }
  ~TempFile() { std::remove(path.c_str()); }
  std::string path;
};

struct Line {
  std::string text;
  uint64_t line, offset, end;
  bool operator==(const Line&) const = default;
};

/// Every line of every block, with where it lies in its input.
std::vector<Line> read_all(ReaderOptions options, std::vector<InputBlock>* blocks = nullptr) {
  InputReader reader(std::move(options), -1);
  std::vector<Line> out;
  InputBlock block;
  while (reader.next(block)) {
    for (const LineSpan& s : block.lines)
      out.push_back({std::string(block.text(s)), block.first_line + s.line, block.line_offset(s), block.line_end(s)});
    if (blocks) blocks->push_back(block);
  }
  return out;
}

}  // namespace

TEST_CASE("each line's offset and end in its input, blanks, BOM and CRLF included", "[input_reader]") {
  TempFile f("\xEF\xBB\xBF{\"a\":1}\n  {\"b\":2}  \r\n\n[3]");
  std::vector<InputBlock> blocks;
  std::vector<Line> lines = read_all({{f.path}, 1000, 1 << 20, false, false, {}}, &blocks);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == Line{"{\"a\":1}", 1, 0, 11});
  CHECK(lines[1] == Line{"{\"b\":2}", 2, 11, 24});
  CHECK(lines[2] == Line{"[3]", 4, 25, 28});  // no newline at the end
  REQUIRE(!blocks.empty());
  CHECK(blocks.front().begins);
  CHECK(blocks.front().identity.regular);
  CHECK(blocks.back().end_offset() == 28);
  CHECK(blocks.back().end_line == 4);
}

TEST_CASE("offsets stay right across small blocks", "[input_reader]") {
  std::string text;
  for (int i = 0; i < 500; ++i) text += "{\"i\":" + std::to_string(i) + "}\n";
  TempFile f(text);
  std::vector<InputBlock> blocks;
  std::vector<Line> lines = read_all({{f.path}, 1000, 64, false, false, {}}, &blocks);
  REQUIRE(lines.size() == 500);
  for (const Line& l : lines) {
    CHECK(text.substr(l.offset, l.end - l.offset) == l.text + "\n");
  }
  CHECK(blocks.size() > 10);
  CHECK(blocks[0].begins);
  CHECK_FALSE(blocks[1].begins);
}

TEST_CASE("a checkpoint's position is where reading starts again, with its line number", "[input_reader]") {
  TempFile f("{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n");
  InputBlock first;
  {
    InputReader reader({{f.path}, 1000, 1 << 20, false, false, {}}, -1);
    REQUIRE(reader.next(first));
  }
  ResumePoint at{first.identity, 8, 1};
  std::vector<InputBlock> blocks;
  std::vector<Line> lines = read_all({{f.path}, 1000, 1 << 20, false, false, {at}}, &blocks);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == Line{"{\"b\":2}", 2, 8, 16});
  CHECK(blocks.front().begins);
  CHECK(blocks.front().offset == 8);
  // Another file under the name: from its start, with a warning.
  at.identity.inode += 1;
  blocks.clear();
  CHECK(read_all({{f.path}, 1000, 1 << 20, false, false, {at}}, &blocks).size() == 3);
  REQUIRE_FALSE(blocks.front().notes_before.empty());
  CHECK(blocks.front().notes_before[0].text.find("another inode") != std::string::npos);
}

TEST_CASE("a moved file is found by its inode only if it still starts with its fingerprinted bytes", "[input_reader]") {
  TempFile f("{\"a\":1}\n{\"a\":2}\n");
  int fd = ::open(f.path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  FileIdentity same = identify(fd);
  ::close(fd);
  REQUIRE(same.regular);
  FoundFile moved = find_moved(f.path + ".gone", same);  // looked for in the file's directory
  CHECK(moved.fd >= 0);
  CHECK(moved.path == f.path);
  CHECK(moved.same_start);
  if (moved.fd >= 0) ::close(moved.fd);
  FileIdentity other = same;  // the same inode, reused for a file with other bytes
  other.fingerprint ^= 1;
  FoundFile none = find_moved(f.path + ".gone", other);  // and not under a name like a rotation of it
  CHECK(none.fd == -1);
  CHECK(none.path.empty());
}
