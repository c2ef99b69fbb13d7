// The compressors the --post workers share: as many as half of --max-buffer
// holds (at least one), each kept from one body to the next. A worker
// borrows one for the time it compresses a body, so at -j 16 with a level
// whose state is large (zstd:19, gzip:12) fewer bodies are compressed at
// once, and the state counts against the budget like everything else.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sinks/codec.h"

namespace batchpipe {

/// How much compressor state a run keeps: pure, from the options.
struct CodecPlan {
  uint64_t state_bytes = 0;  ///< one compressor's (Codec::state_bytes at most_state)
  uint64_t most_state = 0;   ///< what a compressor is made to fit (zstd's tables shrink to it)
  uint32_t slots = 0;        ///< compressors at once
  /// What the budget reserves for them from the start.
  uint64_t reserved() const { return state_bytes * slots; }
};

/// The compressors' share of `budget` (--max-buffer): half of it, at least
/// 1 MiB. zstd's tables are made to fit the share; gzip's cannot be made
/// smaller, so a gzip level whose state is larger than the share is refused
/// (nothing, with `error` saying what to change). `workers` compressors at
/// most. CodecKind::None: an empty plan.
std::optional<CodecPlan> plan_codecs(CodecChoice choice, uint64_t budget, uint32_t workers, std::string& error);

class CodecPool {
 public:
  CodecPool(CodecChoice choice, CodecPlan plan) : choice_(choice), plan_(plan) {}
  CodecPool(const CodecPool&) = delete;
  CodecPool& operator=(const CodecPool&) = delete;

  /// A compressor lent for one body; given back when it goes.
  class Lease {
   public:
    Lease(CodecPool& pool, std::unique_ptr<Codec> codec) : pool_(&pool), codec_(std::move(codec)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (codec_) pool_->give_back(std::move(codec_));
    }
    Codec& operator*() const { return *codec_; }
    Codec* operator->() const { return codec_.get(); }

   private:
    CodecPool* pool_;
    std::unique_ptr<Codec> codec_;
  };

  /// A compressor, once one of the plan's slots is free (the first use of a
  /// slot allocates its state). Nothing if `give_up()` turns true first
  /// (asked every 50 ms while waiting), or, with `error` set, if the state
  /// cannot be allocated.
  std::optional<Lease> take(const std::function<bool()>& give_up, std::string& error);
  /// The Content-Encoding token: "gzip" or "zstd".
  std::string_view encoding() const;
  const CodecPlan& plan() const { return plan_; }

 private:
  void give_back(std::unique_ptr<Codec> codec);

  const CodecChoice choice_;
  const CodecPlan plan_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Codec>> idle_;  ///< made and not lent
  uint32_t made_ = 0;                         ///< compressors allocated (lent or idle)
};

}  // namespace batchpipe
