// The commit step with a real StdoutWriter on a memory file and a real
// dead-letter file: what each kind of report turns into, and what `settled`
// says to the checkpoint.
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/diagnostics.h"
#include "commit/committer.h"

using namespace batchpipe;

namespace {

Batch batch_of(uint64_t number, std::vector<std::string> records) {
  Batch b;
  BatchEncoder::open(b);
  for (const std::string& r : records) BatchEncoder::append(b, r);
  BatchEncoder::close(b);
  b.number = number;
  b.records = records.size();
  b.first = {0, 1};
  b.last = {0, records.size()};
  return b;
}

std::string contents(int fd) {
  std::string out;
  char buf[4096];
  for (off_t at = 0;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, at);
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
    at += n;
  }
}

struct Commit {
  int fd = ::memfd_create("stdout", MFD_CLOEXEC);
  StdoutWriter out{fd};
  Metrics metrics;
  std::vector<std::pair<uint64_t, bool>> spent;  // batch number, settled
  std::unique_ptr<Committer> committer;

  explicit Commit(CommitOptions options, std::optional<DeadLetter> dead = std::nullopt) {
    committer = std::make_unique<Committer>(std::move(options), std::move(dead), metrics, out,
                                            [this](Batch&& b, bool settled) { spent.push_back({b.number, settled}); });
  }
  ~Commit() { ::close(fd); }
};

}  // namespace

TEST_CASE("a delivered batch is counted and spent settled; a lost one is spent unsettled", "[committer]") {
  diag::set_quiet(true);
  Commit c({{"in"}});
  BatchResult ok;
  ok.delivered = true;
  c.committer->commit(batch_of(1, {"1", "2"}), ok, {});
  BatchResult failed;
  failed.reason = "HTTP 500";
  c.committer->commit(batch_of(2, {"3"}), failed, {});
  CHECK(c.spent == std::vector<std::pair<uint64_t, bool>>{{1, true}, {2, false}});
  CHECK(c.metrics.delivered_records.get() == 2);
  CHECK(c.metrics.failed_batches.get() == 1);
  CHECK(c.committer->failed_batches() == 1);
  CHECK(c.committer->undelivered_records() == 1);
}

TEST_CASE("records that failed alone go to the dead-letter file byte for byte; the batch is settled", "[committer]") {
  diag::set_quiet(true);
  char dir[] = "/tmp/bp-committer-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  std::string path = std::string(dir) + "/dead.ndjson";
  std::string error;
  std::optional<DeadLetter> dead = DeadLetter::open(path, error);
  REQUIRE(dead);
  {
    Commit c({{"in"}}, std::move(dead));
    BatchResult partly;
    partly.delivered = true;
    partly.failed = {{1, "HTTP 400 bad"}};
    c.committer->commit(batch_of(1, {"{\"a\":1}", "{\"b\": 2}", "3"}), partly, {});
    CHECK(c.spent == std::vector<std::pair<uint64_t, bool>>{{1, true}});
    CHECK(c.metrics.delivered_records.get() == 2);
    CHECK(c.metrics.dead_lettered.get() == 1);
  }
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  CHECK(text.str() == "{\"b\": 2}\n");
  std::system((std::string("rm -rf ") + dir).c_str());
}

TEST_CASE("with --checkpoint, a batch cut short by a signal is left for the next run, parts delivered or not",
          "[committer]") {
  diag::set_quiet(true);
  Commit c({{"in"}, false, false, /*resumable=*/true});
  BatchResult whole;
  whole.reason = "no retries while shutting down";
  whole.cut_short = true;
  c.committer->commit(batch_of(1, {"1"}), whole, {.shutting_down = true});
  BatchResult part;
  part.delivered = true;
  part.cut_short = true;
  part.failed = {{1, "no retries while shutting down"}};
  c.committer->commit(batch_of(2, {"2", "3"}), part, {.shutting_down = true});
  CHECK(c.spent == std::vector<std::pair<uint64_t, bool>>{{1, false}, {2, false}});
  CHECK(c.metrics.dead_lettered.get() == 0);
  CHECK(c.metrics.delivered_records.get() == 0);
  // Not delivered, but not lost either: left, as the next run reads them again.
  CHECK(c.committer->undelivered_records() == 3);
  CHECK(c.metrics.left_records.get() == 3);
  CHECK(c.metrics.failed_batches.get() == 0);
}

TEST_CASE("with --checkpoint, a batch given up without a dead-letter file is left for the next run, not lost",
          "[committer]") {
  diag::set_quiet(true);
  Commit c({{"in"}, false, false, /*resumable=*/true});
  BatchResult failed;
  failed.reason = "HTTP 503; no retries left after 6 attempts";
  c.committer->commit(batch_of(1, {"1", "2"}), failed, {});
  BatchResult partly;
  partly.delivered = true;
  partly.failed = {{0, "HTTP 400 bad"}};
  c.committer->commit(batch_of(2, {"3", "4"}), partly, {});
  CHECK(c.spent == std::vector<std::pair<uint64_t, bool>>{{1, false}, {2, false}});
  CHECK(c.metrics.left_records.get() == 3);
  CHECK(c.committer->failed_batches() == 2);  // the exit status still says so
  CHECK(c.committer->undelivered_records() == 3);
}

TEST_CASE("records from stdin given up with --checkpoint are lost: no run reads them again", "[committer]") {
  diag::set_quiet(true);
  Commit c({{"-"}, false, false, /*resumable=*/true});
  BatchResult failed;
  failed.reason = "HTTP 503";
  c.committer->commit(batch_of(1, {"1"}), failed, {});
  CHECK(c.metrics.left_records.get() == 0);
  CHECK(c.committer->undelivered_records() == 1);
}

TEST_CASE("records from stdin given up with --spool are left for the next run: the spool keeps them",
          "[committer]") {
  diag::set_quiet(true);
  Commit c({{"-"}, false, false, /*resumable=*/true, /*spooled=*/true});
  BatchResult failed;
  failed.reason = "HTTP 503";
  c.committer->commit(batch_of(1, {"1"}), failed, {});
  CHECK(c.metrics.left_records.get() == 1);
  CHECK(c.committer->undelivered_records() == 1);
}

TEST_CASE("--map answers are printed one line per record, in order, through the writer", "[committer]") {
  diag::set_quiet(true);
  Commit c({{"in"}, /*answers=*/true, /*answers_with_input=*/true});
  BatchResult r;
  r.delivered = true;
  r.answer = "[{\"x\":\n1},2]";
  r.answers = {{1, 8}, {10, 1}};
  c.committer->commit(batch_of(1, {"\"a\"", "\"b\""}), r, {});
  CHECK(contents(c.fd) == "{\"in\":\"a\",\"out\":{\"x\": 1}}\n{\"in\":\"b\",\"out\":2}\n");
}
