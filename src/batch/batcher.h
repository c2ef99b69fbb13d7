// The batching rules as a pure state machine: records and the current time go
// in, closed batches come out. No I/O and no clock reads, so every rule is
// tested by stepping time by hand.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <vector>

#include "batch/batch_encoder.h"
#include "batch/record_id.h"
#include "base/clock.h"
#include "base/units.h"

namespace batchpipe {

struct BatchLimits {
  uint64_t records = 1000;     ///< close when the batch holds this many
  uint64_t bytes = 8 << 20;    ///< the closed batch (its whole body) never exceeds this
  Duration interval{0};        ///< close when the oldest record is this old; zero = never
};

/// Spent buffers a batcher keeps for new batches (see batcher.cc).
inline constexpr size_t kSpareBatches = 64;

/// Reserves a fresh batch's buffers for the most a batch may hold (see batcher.cc).
void reserve_fresh(Batch& b, const BatchLimits& limits);

class Batcher {
 public:
  /// Batches are laid out as `format` says (which must outlive the Batcher).
  explicit Batcher(BatchLimits limits, const BodyFormat& format = BodyFormat::plain_array());

  /// The largest record that fits in a batch of its own.
  uint64_t max_record_size() const { return format_.max_record_size(limits_.bytes); }

  /// Adds a record received at `now`. Returns false, changing nothing, when
  /// the record is larger than max_record_size(). May close the open batch
  /// first (bytes) or after (count).
  /// `copied` as for BatchEncoder::append.
  bool add(std::string_view record, Position from, TimePoint now, void (*copied)(const char*, size_t) = nullptr);

  /// Closes the open batch if its oldest record is `interval` old at `now`.
  void tick(TimePoint now);

  /// Closes the open batch, if it holds anything.
  void flush();

  /// When tick() will next close a batch; nothing if no batch is open or the
  /// interval is off.
  std::optional<TimePoint> deadline() const;

  bool has_closed() const { return !closed_.empty(); }
  /// The oldest closed batch. Requires has_closed().
  Batch take();
  /// Hands a delivered batch's buffer back for reuse, to spare allocations.
  void recycle(Batch&& spent);

  uint64_t batches_closed() const { return next_number_ - 1; }

  /// The memory the Batcher holds: the open batch, the closed ones not yet
  /// taken and the spare buffers (see Batch::memory()). A new batch's
  /// buffer is reserved at --max-bytes at once, so that it never moves
  /// (a move holds the batch twice) and costs only the pages written.
  uint64_t memory() const { return open_.memory() + closed_memory_ + spare_memory_; }
  /// True when no record is held: no open records, no closed batches.
  bool empty() const { return open_.records == 0 && closed_.empty(); }

 private:
  void close_open();

  BatchLimits limits_;
  const BodyFormat& format_;
  Batch open_;
  TimePoint opened_at_{};
  uint64_t next_number_ = 1;
  std::deque<Batch> closed_;
  std::vector<Batch> spare_;
  uint64_t closed_memory_ = 0;  ///< the memory() of closed_
  uint64_t spare_memory_ = 0;   ///< and of spare_
};

}  // namespace batchpipe
