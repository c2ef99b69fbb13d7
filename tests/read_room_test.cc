#include <catch2/catch.hpp>

#include <poll.h>

#include <atomic>
#include <thread>

#include "input/read_room.h"

using namespace batchpipe;

namespace {

/// Polls (bounded) until the waiting thread has said so through fd().
bool wait_started(const ReadRoom& room) {
  pollfd p{room.fd(), POLLIN, 0};
  return ::poll(&p, 1, 10000) == 1 && room.wanted() > 0;
}

}  // namespace

TEST_CASE("growth that fits the budget, or with no record held elsewhere, goes at once", "[read_room]") {
  ReadRoom room(100, true);
  room.others(60, true);
  room.holding(20);
  CHECK(room.held() == 20);
  CHECK(room.wait_for(20));  // 60 + 20 + 20 = 100
  room.others(90, false);    // nothing but buffers: a long line goes alone
  CHECK(room.wait_for(1000));
  CHECK(room.wanted() == 0);
}

TEST_CASE("growth that does not fit waits until a commit makes room", "[read_room]") {
  ReadRoom room(100, true);
  room.others(90, true);
  std::atomic<int> answer{-1};
  std::thread reader([&] { answer = room.wait_for(20) ? 1 : 0; });
  REQUIRE(wait_started(room));
  CHECK(room.wanted() == 20);
  CHECK(answer == -1);
  room.others(80, true);  // 80 + 20 fits
  reader.join();
  CHECK(answer == 1);
  CHECK(room.wanted() == 0);
}

TEST_CASE("stop() ends a wait, and every later one, with false", "[read_room]") {
  ReadRoom room(100, true);
  room.others(100, true);
  std::atomic<int> answer{-1};
  std::thread reader([&] { answer = room.wait_for(1) ? 1 : 0; });
  REQUIRE(wait_started(room));
  room.stop();
  reader.join();
  CHECK(answer == 0);
  CHECK_FALSE(room.wait_for(0));
}

TEST_CASE("with --on-full drop the reader never waits", "[read_room]") {
  ReadRoom room(100, false);
  room.others(100, true);
  CHECK(room.wait_for(1 << 20));
}

TEST_CASE("a block is granted what is left of the budget, between least and most", "[read_room]") {
  ReadRoom room(100, true);
  room.others(50, true);
  room.holding(10);
  CHECK(room.grant(5, 30) == 30);  // 40 left
  room.others(75, true);
  CHECK(room.grant(5, 30) == 15);  // 15 left: what is left, not a whole block
  room.others(85, true);
  CHECK(room.grant(5, 30) == 5);   // 5 left: the least
  room.others(85, false);          // no record held elsewhere: a whole block
  CHECK(room.grant(5, 30) == 30);
  ReadRoom drop(100, false);
  drop.others(100, true);
  CHECK(drop.grant(5, 30) == 30);  // --on-full drop: never limited
}

TEST_CASE("a grant that does not fit its least waits for a commit", "[read_room]") {
  ReadRoom room(100, true);
  room.others(98, true);
  std::atomic<uint64_t> got{0};
  std::thread reader([&] { got = room.grant(5, 30); });
  REQUIRE(wait_started(room));
  CHECK(got == 0);
  room.others(80, true);  // 20 left
  reader.join();
  CHECK(got == 20);
}
