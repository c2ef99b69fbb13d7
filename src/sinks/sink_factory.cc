#include "sinks/sink_factory.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>

#include "deliver/delivery_sink.h"
#include "deliver/reply_reader.h"
#include "deliver/failover_transport.h"
#include "deliver/adaptive_transport.h"
#include "deliver/pacer.h"
#include "base/diagnostics.h"
#include "sinks/exec_transport.h"
#include "sinks/http_transport.h"
#include "sinks/stdout_sink.h"
#include "spool/segment_plan.h"
#include "base/startup_error.h"
#include "base/std_fds.h"

namespace batchpipe {
namespace {

std::unique_ptr<HttpTransport> make_http(const Config& config, const std::string& url,
                                         const std::shared_ptr<HeaderSource>& headers,
                                         const std::shared_ptr<CodecPool>& codecs, std::string& error) {
  bool keep_reply = config.map || config.format.kind() == FormatKind::Bulk || config.reads_items();
  return HttpTransport::create({url, config.method, headers, codecs, config.connect_timeout, config.cacert,
                                config.insecure, config.cert, config.key, config.aws, config.secrets,
                                keep_reply ? config.max_buffer : 0,
                                config.failure_rules()},
                               error);
}

/// One worker's transport: a command, a connection, or with several --post
/// URLs a connection to each behind a FailoverTransport sharing `upstreams`.
/// Each request waits its turn at `pacer` (--rate), if there is one, then
/// for a slot at `gate` (--parallel auto), if there is one; the gate times
/// the request alone, not the wait for its turn. Bodies are compressed
/// with `codecs`' compressors, if there are any.
std::unique_ptr<Transport> make_transport(const Config& config, const std::shared_ptr<Pacer>& pacer,
                                          const std::shared_ptr<ConcurrencyGate>& gate,
                                          const std::shared_ptr<HeaderSource>& headers,
                                          const std::shared_ptr<CodecPool>& codecs,
                                          std::shared_ptr<UpstreamSet>& upstreams, Metrics& metrics,
                                          std::string& error) {
  auto paced = [&](std::unique_ptr<Transport> t) -> std::unique_ptr<Transport> {
    if (t && gate) t = std::make_unique<AdaptiveTransport>(std::move(t), gate);
    if (!t || !pacer) return t;
    return std::make_unique<PacedTransport>(std::move(t), pacer);
  };
  if (!config.exec_command.empty())
    return paced(std::make_unique<ExecTransport>(config.exec_command, config.failure_rules(),
                                                   !config.dead_letter_reasons.empty()));
  if (config.post_urls.size() <= 1) return paced(make_http(config, config.post_url, headers, codecs, error));
  std::vector<std::unique_ptr<Transport>> per_url;
  std::vector<std::string> names;
  for (const std::string& url : config.post_urls) {
    std::unique_ptr<HttpTransport> http = make_http(config, url, headers, codecs, error);
    if (!http) return nullptr;
    names.push_back(http->endpoint());
    per_url.push_back(paced(std::move(http)));
  }
  if (!upstreams)  // cool-downs follow the retry delays: --retry-delay doubled up to --retry-max-delay
    upstreams = std::make_shared<UpstreamSet>(std::move(names), config.retry.delay, config.retry.max_delay, metrics);
  return std::make_unique<FailoverTransport>(std::move(per_url), upstreams);
}

/// Descriptors one --exec worker holds during an attempt: the batch's memfd,
/// the output's memfd, the stderr's (with reply rules) and the child's pidfd.
constexpr uint64_t kFdsPerExecWorker = 4;
/// Kept free for everything else: the dead-letter file, the metrics file's
/// temporary, an input file, libraries.
constexpr uint64_t kFdsSpare = 4;

/// --exec opens its descriptors at each attempt, not at start-up: make sure
/// now that --parallel workers will have them, rather than fail every batch.
void check_descriptors_for_exec(uint32_t workers) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return;
  uint64_t open = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(dir))
      if (e->d_name[0] != '.') ++open;
    ::closedir(dir);
  } else {
    return;  // no /proc: nothing to go by
  }
  uint64_t need = open + workers * kFdsPerExecWorker + kFdsSpare;
  if (need > limit.rlim_cur)
    throw StartupError(fmt::format("--exec with --parallel {} needs about {} file descriptors, but ulimit -n is {}: "
                                   "raise the limit or lower --parallel",
                                   workers, need, static_cast<uint64_t>(limit.rlim_cur)));
}

}  // namespace

std::unique_ptr<Sink> make_sink(const Config& config, Metrics& metrics, std::string& error) {
  // Started with stdout closed, /dev/null stands in for it; writing there
  // would lose every batch quietly. Writes to -1 fail with EBADF, reported
  // as a write error, as cat >&- does.
  if (!config.delivers())
    return std::make_unique<StdoutSink>(std_fds::was_closed(STDOUT_FILENO) ? -1 : STDOUT_FILENO);
  if (config.insecure) diag::warning("--insecure: TLS certificates and host names are not verified");
  if (!config.exec_command.empty()) check_descriptors_for_exec(config.parallel);
  std::vector<std::unique_ptr<Transport>> transports;  // one per worker: its own connection or child
  auto pacer = config.rate.count ? std::make_shared<Pacer>(config.rate) : nullptr;  // --rate: one for all
  std::shared_ptr<UpstreamSet> upstreams;  // several --post URLs: their health, one for all
  // --parallel auto: config.parallel workers, as many at once as the gate allows.
  std::shared_ptr<ConcurrencyGate> gate;
  if (config.parallel_auto) {
    ConcurrencyOptions adaptive;
    adaptive.max = config.parallel;
    gate = std::make_shared<ConcurrencyGate>(adaptive, metrics);
  }
  // -H: one for all, so that a header file is read once when it changes.
  auto headers = std::make_shared<HeaderSource>(config.header_parts, config.secrets,
                                                [](std::string_view message) { diag::warning(message); });
  // --compress: as many compressors as the budget holds, for all workers.
  std::shared_ptr<CodecPool> codecs;
  if (config.compress.kind != CodecKind::None && config.exec_command.empty()) {
    std::optional<CodecPlan> plan = plan_codecs(config.compress, config.max_buffer, config.parallel, error);
    if (!plan) return nullptr;
    codecs = std::make_shared<CodecPool>(config.compress, *plan);
  }
  for (uint32_t i = 0; i < config.parallel; ++i) {
    transports.push_back(make_transport(config, pacer, gate, headers, codecs, upstreams, metrics, error));
    if (!transports.back()) return nullptr;
  }
  std::optional<DeadLetter> dead_letter =
      config.dead_letter.empty() ? std::nullopt : DeadLetter::open(config.dead_letter, error);
  if (dead_letter) dead_letter->set_grace(config.grace);
  if (!config.dead_letter.empty() && !dead_letter) return nullptr;
  if (dead_letter && !config.dead_letter_reasons.empty()) {
    std::optional<DeadLetter> reasons = DeadLetter::open(config.dead_letter_reasons, error, "--dead-letter-reasons");
    if (!reasons) return nullptr;
    dead_letter->set_reasons(std::move(*reasons), config.inputs);
  }
  DeliveryOptions options;
  options.attempt.retry = config.retry;
  options.attempt.timeout = config.timeout;
  options.attempt.verbose = config.verbose;
  options.attempt.reply_limit = config.max_buffer;
  options.stop_on_error = config.stop_on_error;
  options.grace = config.grace;
  options.inputs = config.inputs;
  options.answers = config.map;
  options.answers_with_input = config.map_with_input;
  if (config.map)
    options.reader = make_map_reader();
  else if (config.reads_items())
    options.reader = make_item_reader({config.item_spec, config.item_retryable});
  else if (config.format.kind() == FormatKind::Bulk && !config.post_url.empty())
    options.reader = make_bulk_reader();  // with --exec, the command's exit status decides
  options.resumable = !config.checkpoint.empty() || !config.spool.empty();
  options.positional_ids = !config.spool.empty();
  options.reserved_bytes = codecs ? codecs->plan().reserved() : 0;
  auto sink = std::make_unique<DeliverySink>(std::move(transports), std::move(options), std::move(dead_letter), metrics);
  // --spool without --dead-letter: what the receiver refuses for good is
  // kept beside the segments, not in their way (DIR is ours: checked 0700).
  if (!config.spool.empty() && config.dead_letter.empty()) {
    std::optional<DeadLetter> refused = DeadLetter::open(spool_refused_path(config.spool), error, "--spool");
    if (!refused) return nullptr;
    refused->set_grace(config.grace);
    sink->keep_refused(std::move(*refused));
  }
  return sink;
}

}  // namespace batchpipe
