// batchpipe: read NDJSON, deliver it in batches. main() reads as the run does:
// parse the command line, set up, run the loop, report, exit.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <new>

#include <unistd.h>

#include "cli/cli.h"
#include "commit/checkpointer.h"
#include "base/diagnostics.h"
#include "base/memory.h"
#include "pipeline.h"
#include "report/reporter.h"
#include "base/signals.h"
#include "sinks/orphan_reaper.h"
#include "sinks/sink_factory.h"
#include "spool/spool.h"
#include "base/startup_error.h"
#include "report/stats.h"
#include "base/std_fds.h"

using namespace batchpipe;

namespace {

int run(int argc, char** argv) {
  signals::install();  // before anything slow: an early SIGUSR1 must not kill us
  OrphanReaper reaper;  // as PID 1, the zombies --exec commands leave behind are ours to reap
  CliResult cli = parse_cli(argc, argv);
  if (!cli.config) {
    std::fputs(cli.out.c_str(), stdout);
    if (!cli.err.empty()) diag::error(cli.err);
    return static_cast<int>(cli.status);
  }
  const Config& config = *cli.config;
  diag::set_quiet(config.quiet);
  for (const std::string& w : cli.warnings) diag::warning(w);

  auto started = std::chrono::steady_clock::now();
  std::string error;
  Metrics metrics;
  metrics.delivery = config.delivers();  // the first metrics file has the delivery figures too
  Reporter reporter(config, metrics, ::isatty(STDERR_FILENO), Clock::now());
  if (error = reporter.start(); !error.empty()) {
    diag::error(error);
    return static_cast<int>(ExitStatus::Usage);
  }
  // Before the sink: a checkpoint that cannot be used stops the run before anything is sent.
  std::unique_ptr<Checkpointer> checkpoint;
  if (!config.checkpoint.empty() && !(checkpoint = Checkpointer::open(config.checkpoint, config.inputs, error))) {
    diag::error(error);
    reporter.finish();
    return static_cast<int>(ExitStatus::Usage);
  }
  // Likewise a spool another run holds.
  std::unique_ptr<Spool> spool;
  if (!config.spool.empty() &&
      !(spool = Spool::open(config.spool, config.spool_max, spool_segment_bytes(config.spool_max), error))) {
    diag::error(error);
    reporter.finish();
    return static_cast<int>(ExitStatus::Usage);
  }
  std::unique_ptr<Sink> sink = make_sink(config, metrics, error);
  if (!sink) {
    diag::error(error);
    reporter.finish();
    return static_cast<int>(ExitStatus::Usage);
  }
  ExitStatus status = run_pipeline(config, *sink, metrics, &reporter, checkpoint.get(), spool.get());

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

}  // namespace

int main(int argc, char** argv) {
  tune_allocator();  // before any thread: what --max-buffer counts is what the process holds
  if (std::string error; !std_fds::secure(error)) {
    diag::error(error);
    return static_cast<int>(ExitStatus::SystemError);
  }
  // Whatever could not be set up ends the run here, on one line: never
  // std::terminate's "terminate called ...".
  try {
    return run(argc, argv);
  } catch (const StartupError& e) {
    diag::error(e.what());
  } catch (const std::bad_alloc&) {
    diag::error("out of memory");
  } catch (const std::exception& e) {
    diag::error(e.what());  // std::system_error from std::thread, say
  }
  return static_cast<int>(ExitStatus::SystemError);
}
