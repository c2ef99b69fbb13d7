// What a batch may hold (--size, --max-bytes, --interval) and what that
// means for the buffers a batcher sets aside for its batches.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/units.h"
#include "batch/batch_encoder.h"

namespace batchpipe {

struct BatchLimits {
  uint64_t records = 1000;     ///< close when the batch holds this many
  uint64_t bytes = 8 << 20;    ///< the closed batch (its whole body) never exceeds this
  Duration interval{0};        ///< close when the oldest record is this old; zero = never
};

/// Spent buffers a batcher keeps for new batches: a fresh buffer costs a
/// mapping and a page fault per page written (with tiny records on a VM, the
/// stdout path took 2.4 times as long). As many as a sink spends at once
/// (stdout commits 1 MiB of batches together: 50 of 1000 20-byte records); a
/// spare's pages count against --max-buffer (see KeyedBatcher::memory()).
inline constexpr size_t kSpareBatches = 64;

/// A fresh batch's body starts this small, on the heap: with one record a
/// batch (--size 1, or many keys each with a record or two) a batch reserved
/// at --max-bytes at once cost a mapping, a page and a page table each, and
/// a read block of small records became thousands of them (a 16M budget
/// held 45 MB of batches).
inline constexpr size_t kFirstBatchBytes = 256;

/// Reserves a fresh batch's buffers: the body kFirstBatchBytes (see
/// make_room()), the record ends at once for the most a batch may hold
/// under `limits` when that is a mapping of its own.
void reserve_fresh(Batch& b, const BatchLimits& limits);

/// Before `more` bytes go into `b`'s body: once they no longer fit, the
/// body is reserved for the most a batch may hold under `limits` at once. A
/// large reservation is a mapping of its own whose pages cost memory only
/// once written (see base/memory.h), and after its one move (of at most
/// kFirstBatchBytes) the body never moves again, so it is never held twice.
void make_room(Batch& b, uint64_t more, const BatchLimits& limits);

}  // namespace batchpipe
