#include "base/std_fds.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace batchpipe::std_fds {
namespace {

bool g_closed[3] = {false, false, false};

}  // namespace

bool secure(std::string& error) {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    g_closed[fd] = true;
    // The lowest free descriptor is `fd` itself: the ones below it are open.
    int opened = ::open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY);
    if (opened != fd) {
      error = std::string("cannot open /dev/null in place of a closed standard descriptor: ") +
              (opened < 0 ? std::strerror(errno) : "it landed elsewhere");
      if (opened > 2) ::close(opened);
      return false;
    }
  }
  return true;
}

bool was_closed(int fd) { return fd >= 0 && fd <= 2 && g_closed[fd]; }

}  // namespace batchpipe::std_fds
