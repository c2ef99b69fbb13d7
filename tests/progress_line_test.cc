#include <catch2/catch.hpp>

#include "report/progress_line.h"

using namespace batchpipe;

TEST_CASE("progress line with the stdout sink", "[progress_line]") {
  Metrics m;
  m.records.add(1234567);
  m.batches.add(1235);
  m.buffered_bytes.set(3 << 20);
  m.buffered_records.set(1500);
  CHECK(progress_line(m, 45678.4) ==
        "1,234,567 records in, 45,678/s, 1,235 batches out, buffer 3.0 MiB, 0 dropped");
}

TEST_CASE("progress line with delivery", "[progress_line]") {
  Metrics m;
  m.delivery = true;
  m.records.add(12000);
  m.delivered_records.add(10000);
  m.in_flight.set(3);
  m.retrying.set(1);
  m.dead_lettered.add(20);
  m.dropped.add(5);
  m.buffered_bytes.set(512);
  m.buffered_records.set(-1);  // a transient negative gauge shows as 0
  CHECK(progress_line(m, 999.5) ==
        "12,000 records in, 1,000/s, 10,000 delivered, 3 in flight, buffer 512 B, 1 retrying, 20 dead-lettered, "
        "5 dropped");
  CHECK(progress_line(m, 0, 2048) ==
        "12,000 records in, 0/s, 10,000 delivered, 3 in flight, buffer 25% of 2.0 KiB, 1 retrying, "
        "20 dead-lettered, 5 dropped");
}

TEST_CASE("progress line with --parallel auto shows the limit", "[progress_line]") {
  Metrics m;
  m.delivery = true;
  m.in_flight.set(5);
  m.concurrency_limit.set(6);
  CHECK(progress_line(m, 0) ==
        "0 records in, 0/s, 0 delivered, 5 in flight (limit 6), buffer 0 B, 0 retrying, 0 dead-lettered, 0 dropped");
}
