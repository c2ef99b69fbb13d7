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

/// Reserves a fresh batch's buffers for the most a batch may hold under
/// `limits`. A large reservation is a mapping of its own whose pages cost
/// memory only once written (see base/memory.h), and a buffer that never
/// grows is never held twice while it moves.
void reserve_fresh(Batch& b, const BatchLimits& limits);

}  // namespace batchpipe
