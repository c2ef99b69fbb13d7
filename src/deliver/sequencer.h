// The in-order commit point: results arrive in any order, tagged with their
// batch number, and leave strictly in batch order (1, 2, 3, ...). Pure: no
// threads, no clock; the engine calls it on the loop thread only.
#pragma once

#include <cassert>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>

namespace batchpipe {

template <class Result>
class Sequencer {
 public:
  explicit Sequencer(uint64_t first = 1) : next_(first) {}

  /// Files the result of batch `number`, which must not have been filed or
  /// committed before.
  void put(uint64_t number, Result result) {
    assert(number >= next_ && !waiting_.count(number));
    waiting_.emplace(number, std::move(result));
  }

  /// The next result in batch order, if it has arrived.
  std::optional<Result> pop() {
    auto it = waiting_.find(next_);
    if (it == waiting_.end()) return std::nullopt;
    Result r = std::move(it->second);
    waiting_.erase(it);
    ++next_;
    return r;
  }

  /// The number of the batch the next pop() waits for.
  uint64_t next() const { return next_; }
  /// Results that arrived ahead of an earlier batch.
  size_t waiting() const { return waiting_.size(); }

 private:
  uint64_t next_;
  std::map<uint64_t, Result> waiting_;
};

}  // namespace batchpipe
