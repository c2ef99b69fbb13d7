#include <catch2/catch.hpp>

#include "base/units.h"

using namespace batchpipe;
using namespace std::chrono_literals;

TEST_CASE("durations") {
  CHECK(parse_duration("250ms") == Duration(250ms));
  CHECK(parse_duration("2s") == Duration(2s));
  CHECK(parse_duration("1.5s") == Duration(1500ms));
  CHECK(parse_duration("5m") == Duration(5min));
  CHECK(parse_duration("1h") == Duration(1h));
  CHECK(parse_duration("100us") == Duration(100us));
  CHECK(parse_duration("3") == Duration(3s));
  CHECK(parse_duration("0") == Duration(0s));
  CHECK(parse_duration(".5") == Duration(500ms));
  for (const char* bad : {"", "soon", "-1s", "1x", "s", "1.2.3s", "1 s", "1e3", "inf", "ms", "99999999999h"})
    CHECK_FALSE(parse_duration(bad));
}

TEST_CASE("sizes") {
  CHECK(parse_size("4096") == 4096u);
  CHECK(parse_size("64K") == 65536u);
  CHECK(parse_size("64k") == 65536u);
  CHECK(parse_size("8M") == 8u << 20);
  CHECK(parse_size("8MiB") == 8u << 20);
  CHECK(parse_size("8MB") == 8u << 20);
  CHECK(parse_size("1G") == 1u << 30);
  CHECK(parse_size("1.5K") == 1536u);
  for (const char* bad : {"", "lots", "-1", "1T", "0.3", "K", "1 M", "1e6"})
    CHECK_FALSE(parse_size(bad));
}

TEST_CASE("durations print briefly") {
  CHECK(format_duration(250ms) == "250ms");
  CHECK(format_duration(1200ms) == "1.2s");
}

TEST_CASE("counts and sizes for people", "[units]") {
  CHECK(format_count(0) == "0");
  CHECK(format_count(999) == "999");
  CHECK(format_count(1000) == "1,000");
  CHECK(format_count(123456) == "123,456");
  CHECK(format_count(18446744073709551615u) == "18,446,744,073,709,551,615");
  CHECK(format_bytes(0) == "0 B");
  CHECK(format_bytes(1023) == "1023 B");
  CHECK(format_bytes(1536) == "1.5 KiB");
  CHECK(format_bytes(8u << 20) == "8.0 MiB");
  CHECK(format_bytes(uint64_t{5} << 30) == "5.0 GiB");
}
