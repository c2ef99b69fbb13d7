#include <catch2/catch.hpp>

#include "stats.h"

using namespace batchpipe;
using namespace std::chrono_literals;

TEST_CASE("stats line: input figures", "[stats]") {
  Metrics m;
  m.lines.add(4);
  m.input_bytes.add(70);
  m.records.add(3);
  m.invalid.add(1);
  m.batches.add(2);
  m.output_bytes.add(66);
  CHECK(format_stats(m, 2s) ==
        "stats: 4 lines, 70 bytes in, 3 records in, 1 invalid, 0 dropped, 2 batches, 66 bytes out, 2.000s, "
        "2 records/s, 0.0 MB/s, 0 undelivered");
}

TEST_CASE("stats line: delivery figures", "[stats]") {
  Metrics m;
  m.delivery = true;
  m.records.add(10);
  m.batches.add(4);
  m.attempts.add(6);
  m.retries.add(2);
  m.delivered_batches.add(3);
  m.delivered_records.add(7);
  m.delivered_bytes.add(60);
  m.failed_batches.add(1);
  m.failed_records.add(3);
  m.dead_lettered.add(3);
  m.undelivered.add(3);
  m.dropped.add(2);
  CHECK(format_stats(m, 0s) ==
        "stats: 0 lines, 0 bytes in, 10 records in, 0 invalid, 2 dropped, 4 batches, 0 bytes out, 0.000s, "
        "0 records/s, 0.0 MB/s, 3 batches (7 records) delivered, 2 retries, 6 attempts, "
        "1 failed batches (3 records), 3 dead-lettered, 60 bytes delivered, 3 undelivered");
}
