#include "batch/batcher.h"

#include <cassert>
#include <utility>

namespace batchpipe {

Batcher::Batcher(BatchLimits limits, const BodyFormat& format, RecordSources sources)
    : limits_(limits), format_(format), sources_(std::move(sources)) {
  assert(limits_.records >= 1 && max_record_size() >= 1);
  BatchEncoder::open(open_, format_);
}

bool Batcher::add(std::string_view record, Position from, TimePoint now) {
  if (record.size() > max_record_size()) return false;
  if (open_.records && BatchEncoder::size_with(open_, record.size()) > limits_.bytes) close_open();
  if (open_.records == 0) {
    opened_at_ = now;
    open_.first = from;
  }
  char id[kRecordIdSize];
  std::string_view record_id =
      format_.uses_record_id() ? format_record_id(sources_ ? sources_(from.input) : 0, from.line, id)
                               : std::string_view{};
  BatchEncoder::append(open_, record, record_id);
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
  return b;
}

void Batcher::recycle(Batch&& spent) {
  if (spare_.size() < 4) spare_.push_back(std::move(spent));
}

void Batcher::close_open() {
  BatchEncoder::close(open_);
  open_.number = next_number_++;
  closed_.push_back(std::move(open_));
  open_ = Batch{};
  if (!spare_.empty()) {
    open_.bytes = std::move(spare_.back().bytes);
    open_.ends = std::move(spare_.back().ends);
    spare_.pop_back();
  }
  BatchEncoder::open(open_, format_);
}

}  // namespace batchpipe
