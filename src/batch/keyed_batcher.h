// The batching rules with one open batch per key (routing by field, see
// batch/route.h): records of different keys never share a batch; each key's
// batch closes under the same --size, --max-bytes and --interval rules;
// within a key records keep input order. At most `max_keys` batches are
// open at once: a record of a new key beyond that closes the batch that
// opened first. Batches are numbered as they close. Without routing every
// record has the empty key (a null route): one batch open at a time. Pure:
// records and the current time go in, closed batches come out; no I/O and no
// clock reads, so every rule is tested by stepping time by hand.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "batch/batch_encoder.h"
#include "batch/batch_limits.h"
#include "batch/route.h"

namespace batchpipe {

class KeyedBatcher {
 public:
  /// Batches are laid out as `format` says unless their route has a format
  /// of its own (both must outlive the batches).
  KeyedBatcher(BatchLimits limits, const BodyFormat& format = BodyFormat::plain_array(),
               uint64_t max_keys = kDefaultMaxKeys);

  /// From now on, every batch keeps each record's input and line (Batch::at),
  /// for --dead-letter-reasons: 16 bytes a record more, counted in its memory.
  void keep_lines() { keep_lines_ = true; }

  /// The route of `key`'s open batch, or null when it has none.
  std::shared_ptr<const Route> open_route(std::string_view key) const;

  /// Adds a record received at `now` to the open batch of `route`'s key (null:
  /// the empty key), opening one if needed. Returns false, changing nothing,
  /// when the record is larger than the route's format lets a batch hold.
  /// May close that batch first (bytes) or after (count), or the oldest
  /// open batch of another key (max_keys). `copied` as for BatchEncoder::append.
  /// `action`: when the format takes an action line per record, this
  /// record's (rendered by Router::render_action, without its newline;
  /// {record_id}s are filled in here); its bytes count toward the batch's.
  bool add(const std::shared_ptr<const Route>& route, std::string_view record, Position from, TimePoint now,
           void (*copied)(const char*, size_t) = nullptr, std::string_view action = {});

  /// Closes the open batches whose oldest record is `interval` old at `now`.
  void tick(TimePoint now);
  /// Closes every open batch, oldest first.
  void flush();
  /// When tick() will next close a batch; nothing if none is open or the interval is off.
  std::optional<TimePoint> deadline() const;

  bool has_closed() const { return !closed_.empty(); }
  /// The oldest closed batch. Requires has_closed().
  Batch take();
  /// Hands a delivered batch's buffers back for reuse, to spare allocations
  /// (at most kSpareBatches are kept).
  void recycle(Batch&& spent);

  uint64_t batches_closed() const { return next_number_ - 1; }
  /// Keys with an open batch.
  uint64_t open_keys() const { return open_.size(); }
  /// Records added so far; the next one's input-order number.
  uint64_t added() const { return added_; }
  /// The input-order number of the first record still in an open batch, or
  /// added() when none is open: every record before it has left the batcher.
  uint64_t oldest_open_seq() const { return order_.empty() ? added_ : order_.front()->batch.first_seq; }
  /// The same over the closed batches not yet taken as well: every record
  /// numbered below it has been taken out of the batcher.
  uint64_t oldest_held_seq() const {
    uint64_t open = oldest_open_seq();
    return closed_seqs_.empty() ? open : std::min(open, *closed_seqs_.begin());
  }

  /// The memory the batcher holds: the open batches, the closed ones not yet
  /// taken and the spare buffers (see Batch::memory()). A new batch's buffer
  /// starts small and is reserved at --max-bytes once it outgrows that
  /// (make_room()), so that it moves at most once, while still small (a move
  /// holds the batch twice), and costs only the pages written.
  uint64_t memory() const { return open_memory_ + closed_memory_ + spare_memory_; }
  /// True when no record is held: no open batch, no closed ones.
  bool empty() const { return open_.empty() && closed_.empty(); }

 private:
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Slot {
    Batch batch;
    TimePoint opened_at{};
    std::list<Slot*>::iterator place;
  };
  const BodyFormat& format_of(const std::shared_ptr<const Route>& route) const;
  Slot& open_slot(const std::shared_ptr<const Route>& route, std::string_view key, TimePoint now, Position from);
  void close(Slot& slot);
  Batch fresh_batch();

  BatchLimits limits_;
  const BodyFormat& format_;
  uint64_t max_keys_;
  bool keep_lines_ = false;
  std::unordered_map<std::string, std::unique_ptr<Slot>, KeyHash, std::equal_to<>> open_;
  std::multiset<uint64_t> closed_seqs_;  ///< first_seq of closed_
  std::list<Slot*> order_;  ///< open batches, oldest first
  Slot* hot_ = nullptr;     ///< the slot add() used last (one key: no look-up per record)
  uint64_t next_number_ = 1;
  uint64_t added_ = 0;
  std::deque<Batch> closed_;
  std::vector<Batch> spare_;
  uint64_t open_memory_ = 0, closed_memory_ = 0, spare_memory_ = 0;
  std::string action_line_;  ///< add()'s scratch: the record's action line as it goes in the body
};

}  // namespace batchpipe
