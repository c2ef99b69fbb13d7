#include "sinks/codec_pool.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/units.h"

namespace batchpipe {

std::optional<CodecPlan> plan_codecs(CodecChoice choice, uint64_t budget, uint32_t workers, std::string& error) {
  if (choice.kind == CodecKind::None) return CodecPlan{};
  uint64_t share = std::max<uint64_t>(budget / 2, 1 << 20);
  CodecPlan plan;
  plan.most_state = share;
  plan.state_bytes = Codec::state_bytes(choice, share);
  if (plan.state_bytes > share) {
    uint64_t need = (plan.state_bytes * 2 + (1 << 20) - 1) >> 20;  // in MiB, rounded up
    error = fmt::format("--compress {} keeps {:.1f} MiB of compressor state, more than half of --max-buffer {}: "
                        "give --max-buffer {}M or more, or a lower level",
                        codec_name(choice), static_cast<double>(plan.state_bytes) / (1 << 20), format_bytes(budget),
                        need);
    return std::nullopt;
  }
  plan.slots = static_cast<uint32_t>(std::clamp<uint64_t>(share / plan.state_bytes, 1, std::max(workers, 1u)));
  return plan;
}

std::optional<CodecPool::Lease> CodecPool::take(const std::function<bool()>& give_up, std::string& error) {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (!idle_.empty()) {
      std::unique_ptr<Codec> codec = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(codec));
    }
    if (made_ < plan_.slots) {
      ++made_;
      lock.unlock();
      std::unique_ptr<Codec> codec = Codec::create(choice_, error, plan_.most_state);
      if (!codec) {
        lock.lock();
        --made_;
        returned_.notify_one();
        return std::nullopt;
      }
      return Lease(*this, std::move(codec));
    }
    if (give_up()) return std::nullopt;
    returned_.wait_for(lock, std::chrono::milliseconds(50));
  }
}

void CodecPool::give_back(std::unique_ptr<Codec> codec) {
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(codec));
  }
  returned_.notify_one();
}

std::string_view CodecPool::encoding() const { return choice_.kind == CodecKind::Zstd ? "zstd" : "gzip"; }

}  // namespace batchpipe
