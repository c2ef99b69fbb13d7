#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "input/input_block.h"
#include "spool/spool.h"
#include "spool/spool_reader.h"

using namespace batchpipe;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/spool_test.XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { (void)!std::system(("rm -rf " + path).c_str()); }
  std::string spool() const { return path + "/spool"; }
};

void put(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

/// Every record the reader gives, with its stream offset, and what it said.
struct ReadBack {
  std::vector<std::pair<std::string, uint64_t>> records;
  std::vector<uint64_t> lines;  ///< each record's line number, as messages name it
  std::string notes;
};

ReadBack read_all(Spool& spool) {
  spool.writer_done();  // no writer in these tests: what is there is all there is
  SpoolReader reader(spool, 64 << 10, 1 << 20, -1);
  InputBlock block;
  ReadBack out;
  while (reader.next(block)) {
    for (const LineSpan& span : block.lines) {
      out.records.emplace_back(block.text(span), block.line_offset(span));
      out.lines.push_back(block.first_line + span.line);
    }
    for (const InputNote& n : block.notes_after) out.notes += n.text + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("the spool state reads back as written; anything else is no state", "[spool]") {
  std::string line = format_spool_state(0x0123456789abcdefULL, 4194304);
  CHECK(line == "batchpipe-spool 1 0123456789abcdef 00000000000004194304\n");
  uint64_t key = 0, committed = 0;
  REQUIRE(parse_spool_state(line, key, committed));
  CHECK(key == 0x0123456789abcdefULL);
  CHECK(committed == 4194304);
  CHECK_FALSE(parse_spool_state(line.substr(0, line.size() - 1), key, committed));
  CHECK_FALSE(parse_spool_state("", key, committed));
  std::string bad = line;
  bad[20] = 'x';
  CHECK_FALSE(parse_spool_state(bad, key, committed));
}

TEST_CASE("a spool directory is created 0700 and locked for one run", "[spool]") {
  TempDir t;
  std::string error;
  auto first = Spool::open(t.spool(), 1 << 30, 1 << 20, error);
  REQUIRE(first);
  struct stat st {};
  REQUIRE(::stat(t.spool().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat((t.spool() + "/state").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto second = Spool::open(t.spool(), 1 << 30, 1 << 20, error);
  CHECK_FALSE(second);
  CHECK(error.find("in use by another batchpipe run") != std::string::npos);
  uint64_t key = first->key();
  first.reset();
  auto again = Spool::open(t.spool(), 1 << 30, 1 << 20, error);
  REQUIRE(again);
  CHECK(again->key() == key);  // the same ids next time
}

TEST_CASE("a symbolic link in place of the spool directory is not followed", "[spool]") {
  TempDir t;
  REQUIRE(::mkdir((t.path + "/elsewhere").c_str(), 0700) == 0);
  REQUIRE(::symlink((t.path + "/elsewhere").c_str(), t.spool().c_str()) == 0);
  std::string error;
  CHECK_FALSE(Spool::open(t.spool(), 1 << 30, 1 << 20, error));
  CHECK(error.find("symbolic link") != std::string::npos);
}

TEST_CASE("segments read back in order, with stream offsets as ids, from the commit point", "[spool]") {
  TempDir t;
  std::string error;
  REQUIRE(Spool::open(t.spool(), 1 << 30, 1 << 20, error));  // creates it
  put(t.spool() + "/" + segment_name(0), "{\"a\":1}\n{\"a\":2}\n");
  put(t.spool() + "/" + segment_name(16), "{\"a\":3}\n");
  put(t.spool() + "/" + segment_name(24), "");  // created just before a crash
  put(t.spool() + "/notes.txt", "not a segment\n");
  {
    auto spool = Spool::open(t.spool(), 1 << 30, 1 << 20, error);
    REQUIRE(spool);
    CHECK(spool->read_from() == 0);
    CHECK(spool->write_from() == 24);
    ReadBack r = read_all(*spool);
    REQUIRE(r.records.size() == 3);
    CHECK(r.records[0] == std::pair<std::string, uint64_t>{"{\"a\":1}", 0});
    CHECK(r.records[1] == std::pair<std::string, uint64_t>{"{\"a\":2}", 8});
    CHECK(r.records[2] == std::pair<std::string, uint64_t>{"{\"a\":3}", 16});
    CHECK(r.notes.empty());
    spool->committed(8);  // the first record only: nothing can go yet
    CHECK(::access((t.spool() + "/" + segment_name(0)).c_str(), F_OK) == 0);
  }
  auto spool = Spool::open(t.spool(), 1 << 30, 1 << 20, error);
  REQUIRE(spool);
  CHECK(spool->read_from() == 8);
  ReadBack r = read_all(*spool);
  REQUIRE(r.records.size() == 2);
  CHECK(r.records[0].second == 8);
  spool->committed(16);
  CHECK(::access((t.spool() + "/" + segment_name(0)).c_str(), F_OK) != 0);
  CHECK(::access((t.spool() + "/" + segment_name(16)).c_str(), F_OK) == 0);
  spool->finish(true);  // drained: every segment goes
  CHECK(::access((t.spool() + "/" + segment_name(16)).c_str(), F_OK) != 0);
  CHECK(::access((t.spool() + "/notes.txt").c_str(), F_OK) == 0);  // not ours
}

TEST_CASE("a torn last line and damage in a segment are said, with the range, and the rest read", "[spool]") {
  TempDir t;
  std::string error;
  REQUIRE(Spool::open(t.spool(), 1 << 30, 1 << 20, error));
  put(t.spool() + "/" + segment_name(0), "{\"a\":1}\n\x01\x02garbage\nmore garbage\n{\"a\":2}\n{\"a\":3");
  put(t.spool() + "/" + segment_name(100), "{\"a\":4}\n");
  auto spool = Spool::open(t.spool(), 1 << 30, 1 << 20, error);
  REQUIRE(spool);
  ReadBack r = read_all(*spool);
  REQUIRE(r.records.size() == 3);
  CHECK(r.records[0].first == "{\"a\":1}");
  CHECK(r.records[1].first == "{\"a\":2}");
  CHECK(r.records[2] == std::pair<std::string, uint64_t>{"{\"a\":4}", 100});
  std::string seg = t.spool() + "/" + segment_name(0);
  INFO(r.notes);
  CHECK(r.notes.find(seg + ": bytes 8-31 are not JSON records") != std::string::npos);
  CHECK(r.notes.find(seg + ": bytes 39-45 are a line cut short") != std::string::npos);
}

TEST_CASE("line numbers go on from segment to segment", "[spool]") {
  TempDir t;
  std::string error;
  REQUIRE(Spool::open(t.spool(), 1 << 30, 1 << 20, error));
  put(t.spool() + "/" + segment_name(0), "{\"a\":1}\n{\"a\":2}\n");
  put(t.spool() + "/" + segment_name(16), "{\"a\":3}\n");
  put(t.spool() + "/" + segment_name(24), "{\"a\":4}\n{\"a\":5}\n");
  auto spool = Spool::open(t.spool(), 1 << 30, 1 << 20, error);
  REQUIRE(spool);
  ReadBack r = read_all(*spool);
  CHECK(r.lines == std::vector<uint64_t>{1, 2, 3, 4, 5});
}

TEST_CASE("the oldest record's age is that of the first uncommitted one, 0 once all are committed", "[spool]") {
  TempDir t;
  std::string error;
  auto spool = Spool::open(t.spool(), 1 << 30, 1 << 20, error);
  REQUIRE(spool);
  auto start = std::chrono::system_clock::now();
  CHECK(spool->figures(start).oldest_seconds == 0);  // nothing spooled
  spool->begin_segment(0);
  spool->grew(100);
  spool->synced(0, 100, false);
  CHECK(spool->figures(start + std::chrono::seconds(10)).oldest_seconds >= 9);
  spool->committed(50);  // part of the segment, which stays
  CHECK(spool->figures(start + std::chrono::seconds(10)).oldest_seconds >= 9);
  spool->committed(100);  // all of it, while the segment is still being written
  Spool::Figures f = spool->figures(start + std::chrono::seconds(10));
  CHECK(f.segments == 1);
  CHECK(f.oldest_seconds == 0);
}
