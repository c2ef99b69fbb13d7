// Signals are counted by their handlers, which do nothing else but write one
// wake-up byte to a pipe that the event loop polls. Counting, not queueing a
// byte per signal, means no flood of one signal (700k SIGUSR1s while stdout
// is blocked) can fill the pipe and hide the SIGTERM that follows it.
// SIGPIPE is ignored: EPIPE is handled where writes happen.
#pragma once

#include <functional>
#include <vector>

namespace batchpipe::signals {

/// Creates the wake-up pipe and installs the handlers for SIGINT, SIGTERM,
/// SIGHUP, SIGUSR1 and SIGUSR2 (without SA_RESTART, so a blocked write
/// returns and the loop sees the signal); ignores SIGPIPE and SIGALRM, and
/// restores SIGCHLD's default, which waiting for commands needs. SIGHUP stays
/// ignored if batchpipe was started with it ignored (nohup). The counting
/// handlers are already in place before main() (signals.cc installs them from
/// .preinit_array, before any library initializer): signals counted before
/// this call are taken as usual once it has made the pipe. Call it first
/// thing in main(), before any descriptor is opened. Throws StartupError
/// if the pipe cannot be created. Calling it again installs the handlers
/// again (over a test framework's own, say) and keeps the pipe.
void install();

/// Readable whenever a signal is waiting to be taken.
int fd();

/// The signals received since the last call. SIGUSR1 and SIGUSR2 are listed
/// once however many came; SIGHUP, SIGINT and SIGTERM up to twice each (a
/// second one means "now"), the kind that came first before the others.
/// SIGUSR1 and SIGUSR2 come before the terminating ones.
std::vector<int> take();

/// How many SIGINT/SIGTERM/SIGHUP have arrived so far; safe to call anywhere,
/// so that a blocked write can see a second one without waiting for the loop.
int terminations();

/// Sets what SIGUSR2 asks for (the figures so far, on stderr); null for none.
void on_info(std::function<void()> report);

/// Runs the on_info() report once if SIGUSR2 came since it last ran. The
/// loop calls it, and so do writes that wait in an EINTR loop, so the report
/// comes at once even while stdout is blocked. Keeps errno. Loop thread only.
void report_info_if_asked();

/// Blocks the handled signals in the calling thread (for worker threads), or
/// unblocks them again.
void block_in_this_thread(bool blocked);

}  // namespace batchpipe::signals
