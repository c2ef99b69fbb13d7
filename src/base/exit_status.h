// The one list of batchpipe's exit statuses; man/batchpipe.1 EXIT STATUS mirrors it.
#pragma once

namespace batchpipe {

enum class ExitStatus : int {
  Success = 0,           ///< every record delivered
  InvalidSkipped = 1,    ///< invalid lines skipped, every valid record delivered
  Usage = 2,             ///< bad command line; nothing was read
  StoppedAtInvalid = 3,  ///< --on-invalid fail met an invalid line
  Undelivered = 4,       ///< some records could not be delivered
  DeliveryStopped = 5,   ///< --on-error stop after a delivery failure, or one every batch would share
  InputUnreadable = 6,   ///< an input file could not be opened or read
  SystemError = 7,       ///< a resource needed at start-up was missing: descriptors, memory, threads
  Hangup = 129,          ///< SIGHUP
  Interrupted = 130,     ///< SIGINT
  Terminated = 143,      ///< SIGTERM
};

/// The status to report when both outcomes happened: a signal's status wins,
/// otherwise the larger one.
ExitStatus combine(ExitStatus a, ExitStatus b);

inline bool is_signal(ExitStatus s) {
  return s == ExitStatus::Hangup || s == ExitStatus::Interrupted || s == ExitStatus::Terminated;
}

}  // namespace batchpipe
