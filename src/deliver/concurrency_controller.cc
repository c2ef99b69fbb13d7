#include "deliver/concurrency_controller.h"

#include <algorithm>
#include <cmath>

namespace batchpipe {

ConcurrencyController::ConcurrencyController(ConcurrencyOptions options, TimePoint now) : options_(options) {
  options_.max = std::max<uint32_t>(options_.max, 1);
  start_window(now);
}

Duration ConcurrencyController::window_length() const { return std::max(options_.min_window, baseline_); }

void ConcurrencyController::start_window(TimePoint now) {
  window_start_ = now;
  window_samples_.clear();
  window_saturated_ = false;
}

void ConcurrencyController::cut(TimePoint now, bool overload) {
  if (overload) {
    ceiling_ = limit_;
    probe_at_ = now + options_.probe_interval;
  }
  auto scaled = static_cast<uint32_t>(std::floor(limit_ * options_.decrease));
  limit_ = std::max<uint32_t>(1, std::min(limit_ - 1, scaled));
  start_window(now);
}

void ConcurrencyController::record(TimePoint now, Duration latency, AttemptSignal signal, bool saturated) {
  TimePoint began = now - latency;
  // An attempt that began before the window did ran under an earlier limit:
  // it says nothing about this one.
  if (began < window_start_) return;
  if (signal == AttemptSignal::Overload) {
    cut(now, true);
    return;
  }
  if (began < window_start_ + window_length()) {  // one of the window's own
    if (saturated) window_saturated_ = true;
    if (signal == AttemptSignal::Success) {
      window_samples_.push_back(latency);
    }
    return;
  }
  // An attempt begun after the window has ended, so the window's own have
  // (but for slower ones still) ended too: their latencies are complete
  // enough to judge, slow ones included.
  if (window_samples_.empty()) {
    start_window(now);
    return;
  }
  // The median: one attempt a stalled machine held up does not make a
  // window slow, as it would its mean; a queueing receiver slows them all.
  auto middle = window_samples_.begin() + static_cast<ptrdiff_t>(window_samples_.size() / 2);
  std::nth_element(window_samples_.begin(), middle, window_samples_.end());
  Duration median = *middle;
  if (baseline_ == Duration{0}) baseline_ = median;
  if (static_cast<double>(median.count()) > options_.tolerance * static_cast<double>(baseline_.count())) {
    // Nothing lower to try: the receiver is slower now, and that is the baseline.
    if (limit_ == 1) baseline_ += (median - baseline_) / 8;
    cut(now, false);
    return;
  }
  baseline_ = std::min(baseline_, median);
  if (ceiling_ && limit_ >= ceiling_) ceiling_ = 0;  // got through where it failed before
  bool below_ceiling = !ceiling_ || limit_ + 1 < ceiling_ || now >= probe_at_;
  if (window_saturated_ && limit_ < options_.max && below_ceiling) ++limit_;
  start_window(now);
}

}  // namespace batchpipe
