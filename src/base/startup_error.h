// A resource batchpipe needs to start could not be had: a descriptor, memory,
// a thread, a library's handle. The constructors that acquire such things
// throw StartupError; main() turns it into one line on stderr and
// ExitStatus::SystemError. Failures once the run is under way are not
// thrown: they are results (an attempt that failed, a write error).
#pragma once

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace batchpipe {

class StartupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// `fd` if it is a descriptor; otherwise (-1, errno set) throws StartupError
/// "cannot create WHAT: REASON".
inline int checked_fd(int fd, const char* what) {
  if (fd < 0) throw StartupError(std::string("cannot create ") + what + ": " + std::strerror(errno));
  return fd;
}

}  // namespace batchpipe
