// batchpipe: read NDJSON, deliver it in batches. main() reads as the run does:
// parse the command line, set up, run the loop, report, exit.
#include <chrono>
#include <csignal>
#include <cstdio>

#include <unistd.h>

#include "cli.h"
#include "diagnostics.h"
#include "pipeline.h"
#include "reporter.h"
#include "signals.h"
#include "sinks/sink_factory.h"
#include "stats.h"

using namespace batchpipe;

int main(int argc, char** argv) {
  CliResult cli = parse_cli(argc, argv);
  if (!cli.config) {
    std::fputs(cli.out.c_str(), stdout);
    if (!cli.err.empty()) diag::error(cli.err);
    return static_cast<int>(cli.status);
  }
  const Config& config = *cli.config;
  diag::set_quiet(config.quiet);
  for (const std::string& w : cli.warnings) diag::warning(w);
  signals::install();

  auto started = std::chrono::steady_clock::now();
  std::string error;
  Metrics metrics;
  metrics.delivery = config.delivers();  // the first metrics file has the delivery figures too
  Reporter reporter(config, metrics, ::isatty(STDERR_FILENO), Clock::now());
  if (error = reporter.start(); !error.empty()) {
    diag::error(error);
    return static_cast<int>(ExitStatus::Usage);
  }
  std::unique_ptr<Sink> sink = make_sink(config, metrics, error);
  if (!sink) {
    diag::error(error);
    reporter.finish();
    return static_cast<int>(ExitStatus::Usage);
  }
  ExitStatus status = run_pipeline(config, *sink, metrics, &reporter);

  if (sink->reader_gone()) {
    // Our reader went away: end quietly, as cat does, by the signal it would get.
    reporter.finish();
    std::signal(SIGPIPE, SIG_DFL);
    std::raise(SIGPIPE);
  }
  sink.reset();  // joins the delivery thread
  reporter.finish();  // the figures are final now
  diag::finish();
  print_stats(metrics, std::chrono::steady_clock::now() - started, config.stats);
  return static_cast<int>(status);
}
