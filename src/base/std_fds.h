// Descriptors 0-2 as batchpipe was started with them. A closed one is
// replaced by /dev/null before anything else opens a descriptor, so that no
// pipe, eventfd or file of ours ever lands on 0, 1 or 2 (where a message
// meant for stderr would become a signal byte, say). Which ones were closed
// is remembered: a closed stdin is an unreadable input, a closed stdout a
// write error.
#pragma once

#include <string>

namespace batchpipe::std_fds {

/// Opens /dev/null on each of fds 0-2 that is not open, and remembers which
/// were not. Call first thing in main(). Returns false and sets `error` if
/// /dev/null cannot be opened.
bool secure(std::string& error);

/// Whether `fd` (0, 1 or 2) was closed when secure() ran.
bool was_closed(int fd);

}  // namespace batchpipe::std_fds
