#include <catch2/catch.hpp>

#include "commit/checkpoint_ledger.h"

using namespace batchpipe;

namespace {

FileIdentity file(uint64_t inode) { return {true, 1, inode, 42, 10}; }

/// A closed batch of `records` records whose last one is `last`.
Batch batch(uint64_t records, Position last) {
  Batch b;
  b.records = records;
  b.last = last;
  return b;
}

}  // namespace

TEST_CASE("a position covers committed records only, never those in flight", "[checkpoint]") {
  CheckpointLedger l(1);
  l.began(0, file(7), 0, 0);
  CHECK(l.known(0));
  CHECK(l.position(0).offset == 0);
  // One block: lines 1-4 at offsets 0, 10, 20, 30 (10 bytes each); records 1-4.
  for (int i = 0; i < 4; ++i) l.added();
  l.consumed(0, file(7), 40, 4);
  CHECK(l.position(0).offset == 0);  // nothing committed yet
  l.committed(batch(2, {0, 2, 10, 20}), true);
  CHECK(l.position(0).offset == 20);
  CHECK(l.position(0).line == 2);
  l.committed(batch(2, {0, 4, 30, 40}), true);
  CHECK(l.position(0).offset == 40);
  CHECK(l.position(0).line == 4);
}

TEST_CASE("lines that are not records move the position once everything before them is committed", "[checkpoint]") {
  CheckpointLedger l(1);
  l.began(0, file(7), 100, 5);
  l.added();
  l.consumed(0, file(7), 150, 8);  // one record and two invalid lines
  l.consumed(0, file(7), 200, 10); // a block of invalid lines only
  CHECK(l.position(0).offset == 100);
  l.committed(batch(1, {0, 6, 100, 120}), true);
  CHECK(l.position(0).offset == 200);
  CHECK(l.position(0).line == 10);
  l.consumed(0, file(7), 260, 12);  // nothing in flight: at once
  CHECK(l.position(0).offset == 260);
  CHECK(l.take_changed());
  CHECK_FALSE(l.take_changed());
}

TEST_CASE("a batch left for the next run stops every position where it is", "[checkpoint]") {
  CheckpointLedger l(1);
  l.began(0, file(7), 0, 0);
  for (int i = 0; i < 3; ++i) l.added();
  l.consumed(0, file(7), 30, 3);
  l.committed(batch(1, {0, 1, 0, 10}), true);
  l.committed(batch(1, {0, 2, 10, 20}), false);
  l.committed(batch(1, {0, 3, 20, 30}), true);  // delivered after it, but resuming there would skip line 2
  CHECK(l.position(0).offset == 10);
  CHECK(l.frozen());
  // Nothing more is kept while frozen (a followed file may grow for days).
  l.added();
  l.consumed(0, file(7), 40, 4);
  l.began(0, file(8), 0, 0);
  CHECK(l.position(0).offset == 10);
  CHECK(l.position(0).identity.inode == 7);
}

TEST_CASE("after rotation the new file's positions start from its own beginning", "[checkpoint]") {
  CheckpointLedger l(1);
  l.began(0, file(7), 0, 0);
  l.added();
  l.added();
  l.consumed(0, file(7), 20, 2);  // the old file's end
  l.began(0, file(8), 0, 0);      // the name now points to inode 8
  l.added();
  l.consumed(0, file(8), 15, 1);
  SECTION("a batch ending with the old file's last record") {
    l.committed(batch(2, {0, 2, 10, 20}), true);
    // The old file is finished; the new one is recorded from 0.
    CHECK(l.position(0).identity.inode == 8);
    CHECK(l.position(0).offset == 0);
    l.committed(batch(1, {0, 1, 0, 15}), true);
    CHECK(l.position(0).identity.inode == 8);
    CHECK(l.position(0).offset == 15);
  }
  SECTION("a batch holding records of both files") {
    l.committed(batch(3, {0, 1, 0, 15}), true);
    CHECK(l.position(0).identity.inode == 8);
    CHECK(l.position(0).offset == 15);
  }
  SECTION("a batch of the old file's first record only") {
    l.committed(batch(1, {0, 1, 0, 10}), true);
    CHECK(l.position(0).identity.inode == 7);
    CHECK(l.position(0).offset == 10);
  }
}

TEST_CASE("inputs keep positions of their own; stdin has none", "[checkpoint]") {
  CheckpointLedger l(3);
  l.began(0, file(7), 0, 0);
  l.added();
  l.consumed(0, file(7), 10, 1);
  l.began(1, FileIdentity{}, 0, 0);  // stdin
  l.added();
  l.consumed(1, FileIdentity{}, 10, 1);
  l.began(2, file(9), 0, 0);
  l.added();
  l.consumed(2, file(9), 30, 1);
  l.committed(batch(2, {1, 1, 0, 10}), true);  // file 0's record and stdin's
  CHECK(l.position(0).offset == 10);
  CHECK_FALSE(l.known(1));
  CHECK(l.known(2));
  CHECK(l.position(2).offset == 0);
  l.committed(batch(1, {2, 1, 0, 30}), true);
  CHECK(l.position(2).offset == 30);
}

TEST_CASE("out of order (routing by field): positions move past records whose batches are all committed",
          "[checkpoint]") {
  CheckpointLedger l(1);
  l.set_out_of_order();
  l.began(0, file(7), 0, 0);
  // Block 1: records 0-3 (offsets 0-40); block 2: records 4-5 (offsets 40-60).
  for (int i = 0; i < 4; ++i) l.added();
  l.consumed(0, file(7), 40, 4);
  for (int i = 0; i < 2; ++i) l.added();
  l.consumed(0, file(7), 60, 6);
  // Key a holds records 0, 2 and 4; key b holds 1, 3 and 5. b's batch
  // closes and commits first: record 0 is still held, nothing moves.
  Batch b = batch(3, {0, 6, 50, 60});
  b.first_seq = 1;
  Batch a = batch(3, {0, 5, 40, 50});
  a.first_seq = 0;
  l.handed(b);
  l.advance(0);  // a is still open in the batcher, from record 0
  l.committed(b, true);
  CHECK(l.position(0).offset == 0);
  l.handed(a);
  l.advance(6);  // nothing left in the batcher
  CHECK(l.position(0).offset == 0);
  l.committed(a, true);
  CHECK(l.position(0).offset == 60);
  CHECK(l.position(0).line == 6);
}

TEST_CASE("out of order: a block end moves the position once every record before it is committed",
          "[checkpoint]") {
  CheckpointLedger l(1);
  l.set_out_of_order();
  l.began(0, file(7), 0, 0);
  for (int i = 0; i < 2; ++i) l.added();
  l.consumed(0, file(7), 20, 2);
  for (int i = 0; i < 2; ++i) l.added();
  l.consumed(0, file(7), 40, 4);
  // Records 0 and 1 (key a) committed; record 2 (key b) still open.
  Batch a = batch(2, {0, 2, 10, 20});
  a.first_seq = 0;
  l.handed(a);
  l.advance(2);
  l.committed(a, true);
  CHECK(l.position(0).offset == 20);
  CHECK(l.position(0).line == 2);
}

TEST_CASE("an input's first file is its position at once, whatever other inputs have in flight", "[checkpoint]") {
  CheckpointLedger l(2);
  l.began(0, file(7), 0, 0);
  CHECK(l.take_new_file());
  l.added();
  l.added();
  l.consumed(0, file(7), 20, 2);
  // Input 1 begins with input 0's two records not committed: none of input 1's is.
  l.began(1, file(9), 40, 3);  // resumed at a checkpoint's position
  CHECK(l.known(1));
  CHECK(l.position(1).identity.inode == 9);
  CHECK(l.position(1).offset == 40);
  CHECK(l.take_new_file());
  CHECK_FALSE(l.take_new_file());
  l.added();
  l.consumed(1, file(9), 50, 4);
  l.committed(batch(2, {0, 2, 10, 20}), true);
  CHECK(l.position(0).offset == 20);
  CHECK(l.position(1).offset == 40);
  l.committed(batch(1, {1, 4, 40, 50}), true);
  CHECK(l.position(1).offset == 50);
  CHECK_FALSE(l.take_new_file());  // no other file
}

TEST_CASE("a rotated input names its next file only once the old file's records are committed", "[checkpoint]") {
  CheckpointLedger l(1);
  l.began(0, file(7), 0, 0);
  (void)l.take_new_file();
  l.added();
  l.consumed(0, file(7), 10, 1);
  l.began(0, file(8), 0, 0);
  l.added();
  l.consumed(0, file(8), 10, 1);
  // The old file's record in flight: the position stays in it (a crash
  // finds it renamed, and reads its rest first).
  CHECK(l.position(0).identity.inode == 7);
  CHECK_FALSE(l.take_new_file());
  l.committed(batch(1, {0, 1, 0, 10}), true);
  CHECK(l.position(0).identity.inode == 8);
  CHECK(l.position(0).offset == 0);
  CHECK(l.take_new_file());
  // The same file resumed again is not a new one.
  CheckpointLedger again(1);
  again.began(0, file(8), 10, 1);
  CHECK(again.take_new_file());  // the ledger knew nothing: the checkpoint file may (Checkpointer decides)
}
