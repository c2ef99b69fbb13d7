// The event loop: input blocks, the batch timer and signals in, batches out to
// a sink. None of the three waits on another: input is read on its own thread.
// In pipeline.cc, a Pipeline object holds what a run holds, and run() reads
// as one turn of the loop: commit, look around, checkpoint, hand batches over,
// wait, take input, tick.
#pragma once

#include "cli/config.h"
#include "base/exit_status.h"
#include "sinks/sink.h"
#include "report/metrics.h"

namespace batchpipe {

class Checkpointer;
class Reporter;
class Spool;

/// Reads every input, batches it and delivers it to `sink` until the input
/// ends, a signal stops the run or the sink breaks. Expects signals::install()
/// to have run. Returns the run's exit status; fills `metrics`. `reporter`,
/// if given, gets a tick() whenever its deadline() comes. `checkpoint`
/// (--checkpoint), if given, says where inputs start and is kept up to date
/// with what the sink commits; records stay charged to the byte budget until
/// the checkpoint that covers them is written, so that a crash re-sends at
/// most --max-buffer bytes. `spool` (--spool), if given, takes the inputs
/// in: the loop reads the spool, and tells it what is committed.
ExitStatus run_pipeline(const Config& config, Sink& sink, Metrics& metrics, Reporter* reporter = nullptr,
                        Checkpointer* checkpoint = nullptr, Spool* spool = nullptr);

}  // namespace batchpipe
