// A Transport for unit tests: answers from a script instead of a command or a
// server, and records every attempt made. Thread-safe, so several workers can
// share one script.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "deliver/transport.h"

namespace batchpipe::testing {

struct FakeCall {
  uint64_t batch;
  uint32_t attempt;
  std::string id;
  std::string body;  ///< what was sent
};

class FakeScript {
 public:
  /// What attempt `attempt` of batch `batch` returns; delivered when not set.
  void on(uint64_t batch, uint32_t attempt, Outcome outcome, std::string detail = "scripted failure",
          std::optional<Duration> retry_after = std::nullopt) {
    std::lock_guard lock(mutex_);
    answers_[{batch, attempt}] = {outcome, std::move(detail), retry_after};
  }
  /// Attempts at `batch` wait until release(batch).
  void hold(uint64_t batch) {
    std::lock_guard lock(mutex_);
    held_[batch] = true;
  }
  void release(uint64_t batch) {
    {
      std::lock_guard lock(mutex_);
      held_[batch] = false;
    }
    changed_.notify_all();
  }
  std::vector<FakeCall> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  /// Waits until `n` attempts have started.
  void await_calls(size_t n) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return calls_.size() >= n; });
  }

  AttemptResult attempt(const Batch& batch, const AttemptInfo& info) {
    std::unique_lock lock(mutex_);
    calls_.push_back({info.batch, info.attempt, info.batch_id, std::string(batch.body())});
    changed_.notify_all();
    changed_.wait(lock, [&] { return !held_[batch.number]; });
    auto it = answers_.find({batch.number, info.attempt});
    if (it == answers_.end()) return AttemptResult{Outcome::Delivered, "", std::nullopt};
    const Answer& a = it->second;
    return AttemptResult{a.outcome, a.detail, a.retry_after};
  }

 private:
  struct Answer {
    Outcome outcome;
    std::string detail;
    std::optional<Duration> retry_after;
  };
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::pair<uint64_t, uint32_t>, Answer> answers_;
  std::map<uint64_t, bool> held_;
  std::vector<FakeCall> calls_;
};

class FakeTransport : public Transport {
 public:
  explicit FakeTransport(FakeScript& script) : script_(script) {}
  AttemptResult attempt(const Batch& batch, const AttemptInfo& info, AttemptControl&) override {
    return script_.attempt(batch, info);
  }

 private:
  FakeScript& script_;
};

}  // namespace batchpipe::testing
