#include <catch2/catch.hpp>

#include "input/block_queue.h"

using namespace batchpipe;

TEST_CASE("validated blocks leave in the order they were published", "[block_queue]") {
  BlockQueue queue(3, /*validated=*/true);
  InputBlock* a = queue.acquire();
  InputBlock* b = queue.acquire();
  a->first_line = 1;
  b->first_line = 2;
  queue.publish(a);
  queue.publish(b);
  InputBlock* first = queue.claim();
  InputBlock* second = queue.claim();
  REQUIRE(first == a);
  REQUIRE(second == b);
  CHECK(queue.pop() == nullptr);  // nothing validated yet
  queue.validated(b);             // the later block finishes first
  CHECK(queue.pop() == nullptr);  // and waits for the earlier one
  queue.validated(a);
  CHECK(queue.pop() == a);
  CHECK(queue.pop() == b);
  queue.release(a);
  queue.release(b);
  queue.close();
  CHECK(queue.claim() == nullptr);
  CHECK(queue.finished());
}

TEST_CASE("without validation threads blocks leave as published", "[block_queue]") {
  BlockQueue queue(2);
  InputBlock* a = queue.acquire();
  queue.publish(a);
  CHECK(queue.pop() == a);
  CHECK_FALSE(a->validated);
  queue.release(a);
  queue.close();
  CHECK(queue.finished());
}

TEST_CASE("stop_claims ends every claim", "[block_queue]") {
  BlockQueue queue(2, true);
  queue.stop_claims();
  CHECK(queue.claim() == nullptr);
}
