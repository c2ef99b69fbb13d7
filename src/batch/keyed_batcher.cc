#include "batch/keyed_batcher.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "batch/record_id.h"

namespace batchpipe {

KeyedBatcher::KeyedBatcher(BatchLimits limits, const BodyFormat& format, uint64_t max_keys)
    : limits_(limits), format_(format), max_keys_(max_keys < 1 ? 1 : max_keys) {
  assert(limits_.records >= 1);
}

std::shared_ptr<const Route> KeyedBatcher::open_route(std::string_view key) const {
  auto it = open_.find(key);
  return it == open_.end() ? nullptr : it->second->batch.route;
}

const BodyFormat& KeyedBatcher::format_of(const std::shared_ptr<const Route>& route) const {
  return route && route->format ? *route->format : format_;
}

Batch KeyedBatcher::fresh_batch() {
  Batch b;
  if (!spare_.empty()) {
    spare_memory_ -= spare_.back().memory();
    b.bytes = std::move(spare_.back().bytes);
    b.ends = std::move(spare_.back().ends);
    b.starts = std::move(spare_.back().starts);
    b.at = std::move(spare_.back().at);
    b.high_water = spare_.back().high_water;
    spare_.pop_back();
  } else {
    reserve_fresh(b, limits_);
  }
  return b;
}

KeyedBatcher::Slot& KeyedBatcher::open_slot(const std::shared_ptr<const Route>& route, std::string_view key,
                                            TimePoint now, Position from) {
  if (open_.size() >= max_keys_) close(*order_.front());  // the oldest open batch makes way
  auto slot = std::make_unique<Slot>();
  slot->batch = fresh_batch();
  BatchEncoder::open(slot->batch, format_of(route));
  slot->batch.route = route;
  slot->batch.route_memory = route ? route->memory() : 0;
  slot->batch.first = from;
  slot->batch.first_seq = added_;
  slot->opened_at = now;
  slot->place = order_.insert(order_.end(), slot.get());
  open_memory_ += slot->batch.memory();
  Slot& s = *slot;
  open_.emplace(std::string(key), std::move(slot));
  return s;
}

bool KeyedBatcher::add(const std::shared_ptr<const Route>& route, std::string_view record, Position from,
                       TimePoint now, void (*copied)(const char*, size_t), std::string_view action) {
  const BodyFormat& format = format_of(route);
  char id[kRecordIdSize];
  auto record_id = [&] { return format_record_id(from.source, from.offset, id); };
  std::string_view line;  // the record's own action line, its {record_id}s filled in, and its newline
  if (format.per_record_action() && !action.empty()) {
    action_line_.clear();
    constexpr std::string_view kRecordId = "{record_id}";  // a value cannot write it: braces are escaped
    for (size_t at; (at = action.find(kRecordId)) != std::string_view::npos;) {
      action_line_.append(action.substr(0, at)).append(record_id());
      action.remove_prefix(at + kRecordId.size());
    }
    action_line_.append(action).push_back('\n');
    line = action_line_;
  }
  if (record.size() + line.size() > format.max_record_size(limits_.bytes)) return false;
  std::string_view key = route ? std::string_view(route->key) : std::string_view();
  Slot* slot = hot_;
  if (!slot || slot->batch.route != route) {
    auto it = open_.find(key);
    slot = it == open_.end() ? nullptr : it->second.get();
  }
  if (slot && BatchEncoder::size_with(slot->batch, record.size() + line.size()) > limits_.bytes) {
    close(*slot);
    slot = nullptr;
  }
  if (!slot) slot = &open_slot(route, key, now, from);
  hot_ = slot;
  Batch& b = slot->batch;
  open_memory_ -= b.memory();
  make_room(b, BatchEncoder::size_with(b, record.size() + line.size()) - b.bytes.size(), limits_);
  BatchEncoder::append(b, record, format.uses_record_id() ? record_id() : std::string_view{}, copied, line);
  b.last = from;
  if (keep_lines_) b.at.push_back({from.input, from.line});
  ++added_;
  open_memory_ += b.memory();
  if (b.records >= limits_.records) close(*slot);
  return true;
}

void KeyedBatcher::tick(TimePoint now) {
  if (limits_.interval.count() == 0) return;
  while (!order_.empty() && now >= order_.front()->opened_at + limits_.interval) close(*order_.front());
}

void KeyedBatcher::flush() {
  while (!order_.empty()) close(*order_.front());
}

std::optional<TimePoint> KeyedBatcher::deadline() const {
  if (order_.empty() || limits_.interval.count() == 0) return std::nullopt;
  return order_.front()->opened_at + limits_.interval;
}

Batch KeyedBatcher::take() {
  assert(!closed_.empty());
  Batch b = std::move(closed_.front());
  closed_.pop_front();
  closed_seqs_.erase(closed_seqs_.find(b.first_seq));
  b.charged = b.memory();
  closed_memory_ -= b.charged;
  return b;
}

void KeyedBatcher::recycle(Batch&& spent) {
  if (spare_.size() >= kSpareBatches) return;
  spent.route.reset();  // a spare keeps its buffers, not its key's route
  spent.high_water = std::max<uint64_t>(spent.high_water, spent.bytes.size());
  spare_memory_ += spent.memory();
  spare_.push_back(std::move(spent));
}

void KeyedBatcher::close(Slot& slot) {
  if (hot_ == &slot) hot_ = nullptr;
  Batch& b = slot.batch;
  open_memory_ -= b.memory();
  BatchEncoder::close(b);
  b.number = next_number_++;
  b.high_water = std::max<uint64_t>(b.high_water, b.bytes.size());
  closed_memory_ += b.memory();
  closed_seqs_.insert(b.first_seq);
  closed_.push_back(std::move(b));
  order_.erase(slot.place);
  auto it = open_.find(closed_.back().route ? std::string_view(closed_.back().route->key) : std::string_view());
  open_.erase(it);  // destroys `slot`
}

}  // namespace batchpipe
