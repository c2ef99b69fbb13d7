#include <catch2/catch.hpp>

#include "report/stats.h"

using namespace batchpipe;
using namespace std::chrono_literals;

TEST_CASE("stats for people: input figures, plurals and units", "[stats]") {
  Metrics m;
  m.lines.add(4);
  m.input_bytes.add(70);
  m.records.add(3);
  m.invalid.add(1);
  m.batches.add(1);
  m.output_bytes.add(2048);
  CHECK(format_stats(m, 2s) == std::vector<std::string>{
                                   "stats: read 4 lines (70 B): 3 records, 1 invalid",
                                   "stats: 1 batch (2.0 KiB) in 2.000s: 1 records/s, 35 B/s",
                               });
}

TEST_CASE("stats for people: delivery figures", "[stats]") {
  Metrics m;
  m.delivery = true;
  m.lines.add(1234567);
  m.records.add(1234567);
  m.batches.add(4);
  m.attempts.add(6);
  m.retries.add(1);
  m.delivered_batches.add(3);
  m.delivered_records.add(7);
  m.delivered_bytes.add(60);
  m.failed_batches.add(1);
  m.failed_records.add(3);
  m.dead_lettered.add(3);
  m.undelivered.add(3);
  m.dropped.add(2);
  auto lines = format_stats(m, 0s);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] == "stats: read 1,234,567 lines (0 B): 1,234,567 records, 2 dropped (--on-full drop)");
  CHECK(lines[2] == "stats: delivered 3 batches (7 records, 60 B) in 6 attempts (1 retry)");
  CHECK(lines[3] == "stats: gave up 1 batch (3 records): 3 dead-lettered");
  CHECK(lines[4] == "stats: 3 records not delivered");
}

TEST_CASE("mid-run (SIGUSR2) stats say what the budget holds", "[stats]") {
  Metrics m;
  CHECK(format_stats(m, 0s).size() == 2);  // nothing held: no buffer line
  m.buffer_limit.set(64 << 20);
  m.buffered_bytes.set(3 << 20);
  m.buffered_records.set(1234);
  auto lines = format_stats(m, 0s);
  REQUIRE(lines.size() == 3);
  CHECK(lines[2] == "stats: buffer 3.0 MiB of 64.0 MiB (1,234 records read, not yet committed)");
  CHECK(stats_json(m, 0s).find("\"buffered_bytes\":3145728,\"buffered_records\":1234,") != std::string::npos);
}

TEST_CASE("stats for scripts: every counter of the metrics file, by name", "[stats]") {
  Metrics m;
  m.records.add(10);
  std::string json = stats_json(m, 1500ms);
  CHECK(json.front() == '{');
  CHECK(json.find("\"records_read_total\":10,") != std::string::npos);
  CHECK(json.find("attempts_total") == std::string::npos);  // no delivery: no delivery figures
  CHECK(json.substr(json.size() - 16) == "\"seconds\":1.500}");
  CHECK(json.find("\"buffered_bytes\":0,\"buffered_records\":0,") != std::string::npos);
  m.delivery = true;
  for (const CounterField& c : counter_fields())
    CHECK(stats_json(m, 0s).find(std::string("\"") + (c.name + 10) + "\":") != std::string::npos);
}

TEST_CASE("stats: with --checkpoint, records the next run reads again are said to be left, not lost", "[stats]") {
  Metrics m;
  m.delivery = true;
  m.undelivered.add(30);
  m.left_records.add(30);
  CHECK(format_stats(m, 0s).back() == "stats: 30 records not delivered: left for the next run (--checkpoint)");
  m.undelivered.add(5);  // from stdin: lost
  CHECK(format_stats(m, 0s).back() == "stats: 35 records not delivered, 30 of them left for the next run (--checkpoint)");
}
