#include "deliver/failover_transport.h"

#include <fmt/format.h>

#include "deliver/batch_attempts.h"
#include "base/diagnostics.h"

namespace batchpipe {

UpstreamSet::UpstreamSet(std::vector<std::string> names, Duration cooldown, Duration max_cooldown, Metrics& metrics)
    : upstreams_(names.size(), cooldown, max_cooldown), names_(std::move(names)), metrics_(metrics) {
  for (const std::string& n : names_) {
    metrics_.upstreams.emplace_back();
    metrics_.upstreams.back().name = n;
    metrics_.upstreams.back().up.set(1);
  }
}

std::optional<size_t> UpstreamSet::pick(const std::vector<bool>& tried) {
  std::lock_guard lock(mutex_);
  std::optional<size_t> url = upstreams_.pick(Clock::now(), tried);
  if (url) metrics_.upstreams[*url].requests.add();
  return url;
}

bool UpstreamSet::any_healthy(const std::vector<bool>& tried) {
  std::lock_guard lock(mutex_);
  return upstreams_.any_healthy(Clock::now(), tried);
}

void UpstreamSet::failed(size_t url, const AttemptResult& result) {
  std::lock_guard lock(mutex_);
  TimePoint now = Clock::now();
  // A request started before another worker's put the URL aside has nothing new to say.
  bool news = upstreams_.healthy(url, now);
  Duration aside = upstreams_.failed(url, now, result.retry_after);
  metrics_.upstreams[url].failures.add();
  metrics_.upstreams[url].up.set(0);
  if (news) {
    uint32_t n = upstreams_.failures(url);
    diag::warning(fmt::format("{}: put aside for {}{}: {}", names_[url], format_duration(aside),
                              n > 1 ? fmt::format(" ({} failures in a row)", n) : "", result.detail));
  }
}

void UpstreamSet::answered(size_t url) {
  std::lock_guard lock(mutex_);
  if (upstreams_.answered(url)) {
    metrics_.upstreams[url].up.set(1);
    diag::warning(fmt::format("{}: answering again", names_[url]));
  }
}

AttemptResult FailoverTransport::attempt(const Batch& batch, const AttemptInfo& info, AttemptControl& control) {
  std::vector<bool> tried(per_url_.size(), false);
  for (bool first = true;; first = false) {
    std::optional<size_t> url = set_->pick(tried);
    if (!url) return {Outcome::Retryable, "no URL left to try", std::nullopt};  // not reached: the loop ends first
    tried[*url] = true;
    if (!first) control.restart();  // each request has its own --timeout
    AttemptResult result = per_url_[*url]->attempt(batch, info, control);
    if (result.outcome == Outcome::Cancelled) return result;
    if (!receiver_unwell(result)) {
      set_->answered(*url);
      return result;
    }
    set_->failed(*url, result);
    if (!set_->any_healthy(tried)) return result;  // the engine backs off, and counts a retry
    diag::warning(fmt::format("{}: {}; sending it to another URL at once", describe_batch(batch), result.detail));
  }
}

}  // namespace batchpipe
