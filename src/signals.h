// Signals become bytes on a pipe that the event loop polls; the handlers do
// nothing else. SIGPIPE is ignored: EPIPE is handled where writes happen.
#pragma once

#include <vector>

namespace batchpipe::signals {

/// Installs the handlers for SIGINT, SIGTERM and SIGUSR1 (without SA_RESTART,
/// so a blocked write returns and the loop sees the signal), ignores SIGPIPE
/// and restores SIGCHLD's default, which waiting for commands needs.
void install();

/// Readable whenever a signal is waiting to be taken.
int fd();

/// The signals received since the last call, oldest first.
std::vector<int> take();

/// How many SIGINT/SIGTERM have arrived so far; safe to call anywhere, so
/// that a blocked write can see a second one without waiting for the loop.
int terminations();

/// Blocks the handled signals in the calling thread (for worker threads), or
/// unblocks them again.
void block_in_this_thread(bool blocked);

}  // namespace batchpipe::signals
