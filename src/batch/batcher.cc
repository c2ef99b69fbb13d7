#include "batch/batcher.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace batchpipe {

namespace {

/// Spent buffers kept for new batches: a fresh buffer costs a mapping and a
/// page fault per page written (with tiny records on a VM, the stdout path
/// took 2.4 times as long). As many as a sink spends at once (stdout commits
/// 1 MiB of batches together: 50 of 1000 20-byte records); a spare's
/// pages count against --max-buffer (see memory()).
constexpr size_t kSpares = kSpareBatches;

}  // namespace

/// A large reservation is a mapping of its own whose pages cost memory only
/// once written (see base/memory.h), and a buffer that never grows is never
/// held twice while it moves.
void reserve_fresh(Batch& b, const BatchLimits& limits) {
  if (limits.bytes >= kMappedBytes) b.bytes.reserve(limits.bytes);
  // Each record takes two bytes of the body at least.
  uint64_t ends = std::min<uint64_t>(limits.records, limits.bytes / 2 + 1);
  if (ends * sizeof(uint32_t) >= kMappedBytes) b.ends.reserve(ends);
}

Batcher::Batcher(BatchLimits limits, const BodyFormat& format) : limits_(limits), format_(format) {
  assert(limits_.records >= 1 && max_record_size() >= 1);
  reserve_fresh(open_, limits_);
  BatchEncoder::open(open_, format_);
}

bool Batcher::add(std::string_view record, Position from, TimePoint now, void (*copied)(const char*, size_t)) {
  if (record.size() > max_record_size()) return false;
  if (open_.records && BatchEncoder::size_with(open_, record.size()) > limits_.bytes) close_open();
  if (open_.records == 0) {
    opened_at_ = now;
    open_.first = from;
  }
  char id[kRecordIdSize];
  std::string_view record_id =
      format_.uses_record_id() ? format_record_id(from.source, from.offset, id)
                               : std::string_view{};
  BatchEncoder::append(open_, record, record_id, copied);
  open_.last = from;
  if (open_.records >= limits_.records) close_open();
  return true;
}

void Batcher::tick(TimePoint now) {
  auto due = deadline();
  if (due && now >= *due) close_open();
}

void Batcher::flush() {
  if (open_.records) close_open();
}

std::optional<TimePoint> Batcher::deadline() const {
  if (open_.records == 0 || limits_.interval.count() == 0) return std::nullopt;
  return opened_at_ + limits_.interval;
}

Batch Batcher::take() {
  assert(!closed_.empty());
  Batch b = std::move(closed_.front());
  closed_.pop_front();
  b.charged = b.memory();
  closed_memory_ -= b.charged;
  return b;
}

void Batcher::recycle(Batch&& spent) {
  if (spare_.size() >= kSpares) return;
  spent.high_water = std::max<uint64_t>(spent.high_water, spent.bytes.size());
  spare_memory_ += spent.memory();
  spare_.push_back(std::move(spent));
}

void Batcher::close_open() {
  BatchEncoder::close(open_);
  open_.number = next_number_++;
  open_.high_water = std::max<uint64_t>(open_.high_water, open_.bytes.size());
  closed_memory_ += open_.memory();
  closed_.push_back(std::move(open_));
  open_ = Batch{};
  if (!spare_.empty()) {
    spare_memory_ -= spare_.back().memory();
    open_.bytes = std::move(spare_.back().bytes);
    open_.ends = std::move(spare_.back().ends);
    open_.high_water = spare_.back().high_water;
    spare_.pop_back();
  } else {
    reserve_fresh(open_, limits_);
  }
  BatchEncoder::open(open_, format_);
}

}  // namespace batchpipe
