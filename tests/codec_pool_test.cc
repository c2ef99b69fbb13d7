#include <catch2/catch.hpp>

#include <libdeflate.h>

#include <cstdlib>

#include "sinks/codec_pool.h"

using namespace batchpipe;

namespace {

constexpr uint64_t MiB = 1 << 20;
size_t allocated = 0;
void* counting_malloc(size_t n) {
  allocated += n;
  return std::malloc(n);
}

}  // namespace

TEST_CASE("gzip's state per level is what libdeflate allocates", "[codec]") {
  libdeflate_set_memory_allocator(counting_malloc, std::free);
  for (int level = 1; level <= 12; ++level) {
    allocated = 0;
    libdeflate_compressor* c = libdeflate_alloc_compressor(level);
    REQUIRE(c);
    CHECK(Codec::state_bytes({CodecKind::Gzip, level}) == allocated);
    libdeflate_free_compressor(c);
  }
  libdeflate_set_memory_allocator(std::malloc, std::free);
}

TEST_CASE("the compressors share half the budget, at least one", "[codec]") {
  std::string error;
  auto plan = plan_codecs({CodecKind::Zstd, 3}, 64 * MiB, 16, error);
  REQUIRE(plan);
  CHECK(plan->slots == 16);
  CHECK(plan->reserved() <= 32 * MiB);
  plan = plan_codecs({CodecKind::Zstd, 19}, 64 * MiB, 16, error);
  REQUIRE(plan);
  CHECK(plan->slots == 1);  // its tables shrunk to fit the 32 MiB share
  CHECK(plan->state_bytes <= 32 * MiB);
  CHECK(plan->state_bytes > 16 * MiB);
  plan = plan_codecs({CodecKind::Zstd, 19}, 1024 * MiB, 16, error);
  REQUIRE(plan);
  CHECK(plan->state_bytes > 80 * MiB);  // full tables
  CHECK(plan->slots == 6);
  plan = plan_codecs({CodecKind::Gzip, 6}, 1 * MiB, 4, error);
  REQUIRE(plan);
  CHECK(plan->slots == 1);  // the share is 1 MiB at least
  CHECK(plan_codecs({}, 1 * MiB, 4, error)->reserved() == 0);
}

TEST_CASE("a gzip level whose state does not fit half the budget is refused", "[codec]") {
  std::string error;
  CHECK_FALSE(plan_codecs({CodecKind::Gzip, 12}, 16 * MiB, 1, error));
  CHECK(error == "--compress gzip:12 keeps 8.6 MiB of compressor state, more than half of --max-buffer 16.0 MiB: "
                 "give --max-buffer 18M or more, or a lower level");
  CHECK(plan_codecs({CodecKind::Gzip, 12}, 18 * MiB, 1, error));
}

TEST_CASE("a pool lends no more compressors than its slots", "[codec]") {
  std::string error;
  CodecPool pool({CodecKind::Zstd, 1}, *plan_codecs({CodecKind::Zstd, 1}, 1 * MiB, 4, error));
  REQUIRE(pool.plan().slots == 1);
  auto first = pool.take([] { return false; }, error);
  REQUIRE(first);
  int asked = 0;
  CHECK_FALSE(pool.take([&] { return ++asked == 2; }, error));  // waits, then gives up
  CHECK(asked == 2);
  first.reset();
  CHECK(pool.take([] { return true; }, error));  // given back: lent at once
}
