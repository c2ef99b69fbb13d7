#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "input/line_framer.h"

using namespace batchpipe;

namespace {

struct Line {
  std::string text;
  uint64_t line, offset, end;  ///< number; where it starts and just past its newline, in the input
  bool operator==(const Line&) const = default;
};

struct Framed {
  std::vector<Line> lines;
  std::vector<std::pair<uint64_t, uint64_t>> oversized;  ///< line, size
  uint64_t line_count = 0;                               ///< over all blocks
  uint64_t input_bytes = 0;
  uint64_t end_offset = 0;  ///< of the last block
  size_t blocks = 0;
  size_t cut = 0;  ///< finish()'s answer
  bool operator==(const Framed&) const = default;
};

struct Run {
  size_t read_size = 1 << 20;  ///< bytes a read returns at most
  size_t block_size = 1 << 20;
  uint64_t max_record = 1000;
  bool text = false;
  size_t max_lines = SIZE_MAX;
  bool stop = false;  ///< the input is cut short after `input`, not ended
  /// A block is handed out as soon as it holds a whole line (the reader does
  /// so when nothing more is ready), else only when its buffer is full.
  bool eager = false;
};

/// Drives the framer as InputReader does, reading `input` `r.read_size`
/// bytes at a time.
Framed frame_all(const std::string& input, const Run& r) {
  LineFramer framer(r.max_record, r.text);
  framer.restart();
  Framed out;
  size_t pos = 0;
  InputBlock block;
  for (bool ended = false; !ended;) {
    block.lines.clear();
    block.oversized.clear();
    block.input_bytes = block.line_count = 0;
    framer.begin(block, r.block_size);
    bool at_end = false;
    if (!framer.has_line()) {
      for (;;) {
        std::span<char> room = framer.space(block);
        if (room.empty()) break;
        if (r.eager && framer.has_line()) break;
        size_t n = std::min({room.size(), r.read_size, input.size() - pos});
        if (n == 0) {
          at_end = true;
          if (!r.stop) framer.end_of_input(block);
          break;
        }
        std::copy_n(input.data() + pos, n, room.data());
        pos += n;
        framer.fed(block, n);
      }
    }
    if (at_end) {
      out.cut = framer.finish(block, !r.stop);
      ended = true;
    } else {
      framer.frame(block, r.max_lines);
    }
    ++out.blocks;
    for (const LineSpan& s : block.lines)
      out.lines.push_back({std::string(block.text(s)), block.first_line + s.line, block.line_offset(s),
                           block.line_end(s)});
    for (const OversizedLine& o : block.oversized) out.oversized.emplace_back(o.line, o.size);
    out.line_count += block.line_count;
    out.input_bytes += block.input_bytes;
    out.end_offset = block.end_offset();
    REQUIRE(out.blocks < 100000);  // no progress: a bug
  }
  return out;
}

/// The same result whatever the reads' and blocks' sizes.
Framed frame_every_way(const std::string& input, Run r) {
  Framed whole = frame_all(input, r);
  for (size_t read = 1; read <= input.size() + 1; read += read < 16 ? 1 : 7) {
    for (bool eager : {false, true}) {
      r.read_size = read;
      r.eager = eager;
      Framed f = frame_all(input, r);
      INFO("read size " << read << (eager ? ", eager" : ""));
      CHECK(f.lines == whole.lines);
      CHECK(f.oversized == whole.oversized);
      CHECK(f.line_count == whole.line_count);
      CHECK(f.input_bytes == input.size());
      CHECK(f.end_offset == input.size());
      CHECK(f.cut == whole.cut);
    }
  }
  return whole;
}

}  // namespace

TEST_CASE("lines are trimmed and blank ones dropped, with where each lies", "[line_framer]") {
  Framed f = frame_every_way("{\"a\":1}\n  {\"b\":2} \t\r\n\n \r\n[3]\n", {});
  REQUIRE(f.lines.size() == 3);
  CHECK(f.lines[0] == Line{"{\"a\":1}", 1, 0, 8});
  CHECK(f.lines[1] == Line{"{\"b\":2}", 2, 8, 21});
  CHECK(f.lines[2] == Line{"[3]", 5, 25, 29});
  CHECK(f.line_count == 5);
  CHECK(f.oversized.empty());
}

TEST_CASE("the last line counts without its newline; a line cut short by a stop is dropped", "[line_framer]") {
  Framed f = frame_every_way("{\"a\":1}\n{\"b\":2}", {});
  REQUIRE(f.lines.size() == 2);
  CHECK(f.lines[1] == Line{"{\"b\":2}", 2, 8, 15});
  CHECK(f.cut == 0);

  Run stop;
  stop.stop = true;
  Framed s = frame_all("{\"a\":1}\n{\"b\":2}", stop);
  REQUIRE(s.lines.size() == 1);
  CHECK(s.cut == 7);
  CHECK(frame_all("{\"a\":1}\n  \t", stop).cut == 0);  // only blanks after the last line: nothing lost
}

TEST_CASE("a BOM is dropped only at the very start of the input", "[line_framer]") {
  const std::string bom = "\xEF\xBB\xBF";
  Framed f = frame_every_way(bom + "{\"a\":1}\n" + bom + "{\"b\":2}\n", {});
  REQUIRE(f.lines.size() == 2);
  CHECK(f.lines[0] == Line{"{\"a\":1}", 1, 0, 11});
  CHECK(f.lines[1].text == bom + "{\"b\":2}");  // not a BOM there: the record's bytes, for the validator to judge
  Framed blank_first = frame_every_way(" " + bom + "{}\n", {});
  REQUIRE(blank_first.lines.size() == 1);
  CHECK(blank_first.lines[0].text == bom + "{}");
  Run text;
  text.text = true;
  Framed t = frame_every_way(bom + "hello\r\n", text);
  REQUIRE(t.lines.size() == 1);
  CHECK(t.lines[0].text == "hello");
}

TEST_CASE("--input text keeps lines whole, empty ones too; only LF or CRLF goes", "[line_framer]") {
  Run text;
  text.text = true;
  Framed f = frame_every_way("  a b \r\n\n\r\nlast\r", text);
  REQUIRE(f.lines.size() == 4);
  CHECK(f.lines[0] == Line{"  a b ", 1, 0, 8});
  CHECK(f.lines[1] == Line{"", 2, 8, 9});
  CHECK(f.lines[2] == Line{"", 3, 9, 11});
  CHECK(f.lines[3] == Line{"last", 4, 11, 16});
  CHECK(frame_every_way("a\n", text).lines.size() == 1);  // nothing after the final newline is no line
}

TEST_CASE("a line that crosses block edges is carried whole into the next block", "[line_framer]") {
  std::string input;
  for (int i = 0; i < 200; ++i) input += "{\"i\":" + std::to_string(i) + "}\n";
  for (size_t block : {16, 17, 64, 100}) {
    Run r;
    r.block_size = block;
    Framed f = frame_every_way(input, r);
    REQUIRE(f.lines.size() == 200);
    for (const Line& l : f.lines) CHECK(input.substr(l.offset, l.end - l.offset) == l.text + "\n");
    CHECK(f.blocks > 10);
  }
}

TEST_CASE("a block frames at most max_lines; the rest are framed before more is read", "[line_framer]") {
  LineFramer framer(1000, false);
  InputBlock block;
  framer.begin(block, 1 << 10);
  std::string input = "1\n2\n3\n4\n5\n6\n7";
  std::span<char> room = framer.space(block);
  std::copy(input.begin(), input.end(), room.data());
  framer.fed(block, input.size());
  std::vector<size_t> per_block;
  for (;;) {
    framer.frame(block, 3);
    per_block.push_back(block.lines.size());
    block.lines.clear();
    block.input_bytes = block.line_count = 0;
    framer.begin(block, 1 << 10);
    if (!framer.has_line()) break;  // a reader would read more now
  }
  CHECK(per_block == std::vector<size_t>{3, 3});
  CHECK(framer.consumed() == 12);
  CHECK(framer.finish(block, true) == 0);
  REQUIRE(block.lines.size() == 1);
  CHECK(block.text(block.lines[0]) == "7");
  CHECK(block.first_line == 7);
}

TEST_CASE("a line longer than the record limit is read through in bounded memory and reported", "[line_framer]") {
  Run r;
  r.max_record = 100;
  r.block_size = 32;
  std::string big(5000, 'x');
  Framed f = frame_every_way("{\"a\":1}\n  " + big + "  \n{\"b\":2}\n" + big, r);
  REQUIRE(f.lines.size() == 2);
  CHECK(f.lines[0].text == "{\"a\":1}");
  CHECK(f.lines[1] == Line{"{\"b\":2}", 3, 5013, 5021});
  using P = std::pair<uint64_t, uint64_t>;
  CHECK(f.oversized == std::vector<P>{{2, 5000}, {4, 5000}});  // sizes without the blanks around
  CHECK(f.line_count == 4);

  // Bounded: the buffer never grows past the limit (and slack).
  LineFramer framer(100, false);
  InputBlock block;
  framer.begin(block, 32);
  for (int i = 0; i < 1000; ++i) {
    std::span<char> room = framer.space(block);
    REQUIRE(!room.empty());
    std::fill(room.begin(), room.end(), 'y');
    framer.fed(block, room.size());
  }
  CHECK(block.buffer.size() <= 100 + kFramerSlack + kValidatorPadding);
  CHECK(block.lines.empty());
}

TEST_CASE("a record at the limit is kept, whatever blanks surround it", "[line_framer]") {
  Run r;
  r.max_record = 100;
  r.block_size = 16;
  std::string rec = "\"" + std::string(98, 'x') + "\"";
  REQUIRE(rec.size() == 100);
  for (size_t blanks : {0, 1, 10, 63, 64, 65, 200}) {
    std::string pad(blanks, ' ');
    Framed f = frame_every_way(pad + rec + pad + "\n{}\n", r);
    INFO(blanks << " blanks");
    REQUIRE(f.lines.size() == 2);
    CHECK(f.lines[0] == Line{rec, 1, 0, 2 * blanks + 101});
    CHECK(f.oversized.empty());
  }
  // A line that fits the limit and slack is held whole, for the batcher to
  // judge by its content; one that does not is read through, also when blanks inside the record filled the buffer.
  std::string held = "\"" + std::string(100 + kFramerSlack - 3, 'x') + "\"";
  CHECK(frame_every_way(held + "\n{}\n", r).lines.size() == 2);
  std::string over = held + "x";
  Framed f = frame_every_way(over + "\n{}\n", r);
  CHECK(f.lines.size() == 1);
  CHECK(f.oversized == std::vector<std::pair<uint64_t, uint64_t>>{{1, over.size()}});
  std::string gap = "\"" + std::string(60, 'x') + std::string(200, ' ') + "y\"";
  Framed g = frame_every_way(gap + "\n{}\n", r);
  CHECK(g.lines.size() == 1);
  CHECK(g.oversized == std::vector<std::pair<uint64_t, uint64_t>>{{1, gap.size()}});
}

TEST_CASE("an oversized last line without newline is reported at the end of the input", "[line_framer]") {
  Run r;
  r.max_record = 50;
  r.block_size = 16;
  Framed f = frame_every_way("{}\n" + std::string(300, 'z') + "   ", r);
  CHECK(f.lines.size() == 1);
  CHECK(f.oversized == std::vector<std::pair<uint64_t, uint64_t>>{{2, 300}});
  CHECK(f.line_count == 2);
}

TEST_CASE("a restart resumes the numbering and offsets where a checkpoint left them", "[line_framer]") {
  LineFramer framer(1000, false);
  framer.restart(8, 1);
  InputBlock block;
  framer.begin(block, 1 << 10);
  std::string rest = "{\"b\":2}\n{\"c\":3}\n";
  std::span<char> room = framer.space(block);
  std::copy(rest.begin(), rest.end(), room.data());
  framer.fed(block, rest.size());
  framer.end_of_input(block);
  CHECK(framer.finish(block, true) == 0);
  REQUIRE(block.lines.size() == 2);
  CHECK(block.first_line == 2);
  CHECK(block.line_offset(block.lines[0]) == 8);
  CHECK(block.end_offset() == 24);
  CHECK(framer.line() == 3);
  CHECK(framer.consumed() == 24);
}

TEST_CASE("a long partial line is carried whole, and its carry freed once in the next block", "[line_framer]") {
  // Carries of 256 KiB and more take the piecewise way, pages given back.
  std::string big = "\"" + std::string(700 << 10, 'b') + "\"";
  std::string input = "{\"a\":1}\n" + big + "\n{\"c\":3}\n" + big + "\n";
  for (size_t read : {size_t{4096}, size_t{300 << 10}, size_t{1 << 20}}) {
    Run r;
    r.read_size = read;
    r.block_size = 512 << 10;
    r.max_record = 2 << 20;
    Framed f = frame_all(input, r);
    INFO("read size " << read);
    REQUIRE(f.lines.size() == 4);
    CHECK(f.lines[1].text == big);
    CHECK(f.lines[2].text == "{\"c\":3}");
    CHECK(f.lines[3].text == big);
    CHECK(f.input_bytes == input.size());
  }
  LineFramer framer(2 << 20, false);
  InputBlock block;
  framer.begin(block, 512 << 10);
  std::string head = "{\"a\":1}\n" + big.substr(0, 400 << 10);
  std::span<char> room = framer.space(block);
  REQUIRE(room.size() >= head.size());
  std::copy(head.begin(), head.end(), room.data());
  framer.fed(block, head.size());
  framer.frame(block, SIZE_MAX);
  CHECK(framer.carried() >= (400 << 10) - 8);
  InputBlock next;
  framer.begin(next, 512 << 10);
  CHECK(framer.carried() < 64);  // its buffer went with it (a short string stays)
  CHECK(std::string_view(next.buffer.data(), 400 << 10) == std::string_view(big).substr(0, 400 << 10));
}

TEST_CASE("growth() says how much space() is about to add to the buffer", "[line_framer]") {
  LineFramer framer(1 << 20, false);
  InputBlock block;
  framer.begin(block, 64 << 10);
  std::string line = "\"" + std::string((600 << 10) - 2, 'g') + "\"\n";
  size_t pos = 0, grown = 0;
  while (pos < line.size()) {
    size_t before = block.buffer.size();
    size_t more = framer.growth(block);
    std::span<char> room = framer.space(block);
    CHECK(block.buffer.size() - before == more);
    grown += more;
    size_t n = std::min(room.size(), line.size() - pos);
    std::copy_n(line.data() + pos, n, room.data());
    framer.fed(block, n);
    pos += n;
  }
  CHECK(grown > 0);
  CHECK(framer.growth(block) == 0);  // a whole line: nothing more to grow for
  // Past the record limit the line is read through, never grown for.
  LineFramer small(100 << 10, false);
  InputBlock b2;
  small.begin(b2, 64 << 10);
  for (int i = 0; i < 8; ++i) {
    size_t before = b2.buffer.size();
    size_t more = small.growth(b2);
    std::span<char> room = small.space(b2);
    CHECK(b2.buffer.size() - before == more);
    std::fill(room.begin(), room.end(), 'x');
    small.fed(b2, room.size());
  }
}

TEST_CASE("input fills a kept buffer only up to the bytes asked for, unless one line is longer", "[line_framer]") {
  LineFramer framer(1 << 20, false);
  InputBlock block;
  framer.begin(block, 1 << 10);
  size_t big = block.buffer.size();
  block.lines.clear();
  framer.frame(block, SIZE_MAX);
  framer.begin(block, 512);  // within 4x: the buffer is kept, but filled to 512 bytes
  CHECK(block.buffer.size() == big);
  CHECK(framer.space(block).size() == 512);
  framer.begin(block, 512, 600);  // no larger than 600: a smaller buffer
  CHECK(block.buffer.size() < big);
  CHECK(framer.space(block).size() == 512);
  // One line longer than the bytes asked for goes on into the buffer.
  framer.begin(block, 100);
  std::span<char> room = framer.space(block);
  REQUIRE(room.size() == 100);
  std::fill(room.begin(), room.end(), 'x');
  framer.fed(block, room.size());
  CHECK(framer.space(block).size() == block.buffer.size() - 100 - kValidatorPadding);
}
