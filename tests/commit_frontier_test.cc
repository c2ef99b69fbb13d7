#include <catch2/catch.hpp>

#include "commit/commit_frontier.h"

using namespace batchpipe;

TEST_CASE("the frontier moves past a block only once every record before its end is committed") {
  CommitFrontier f;
  // Block 1 (records 0-3) ends at 100, block 2 (records 4-5) at 160.
  f.consumed(4, 100);
  f.consumed(6, 160);
  // Key B's batch (records 1, 3) closes and goes first; key A (0, 2, 4) and C (5) stay open.
  f.handed(1);
  CHECK_FALSE(f.advance(0));
  f.committed(1);
  CHECK_FALSE(f.advance(0));  // record 0 is still in the batcher
  f.handed(0);                // A's batch goes
  CHECK_FALSE(f.advance(5));  // ... C (record 5) is the first the batcher holds
  f.committed(0);
  CHECK(f.advance(5) == 100u);  // records 0-3 committed, 5 held: block 2 not yet
  CHECK_FALSE(f.advance(5));
  f.handed(5);
  CHECK_FALSE(f.advance(6));
  f.committed(5);
  CHECK(f.advance(6) == 160u);
}

TEST_CASE("a block without records moves the frontier with the blocks before it") {
  CommitFrontier f;
  f.consumed(0, 10);  // blank or invalid lines only
  CHECK(f.advance(0) == 10u);
  f.consumed(2, 50);
  f.consumed(2, 70);  // a block of blank lines after them
  f.handed(1);
  f.handed(0);
  f.committed(0);
  CHECK_FALSE(f.advance(2));
  f.committed(1);
  CHECK(f.advance(2) == 70u);
}
