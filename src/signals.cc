#include "signals.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "startup_error.h"

namespace batchpipe::signals {
namespace {

int g_pipe[2] = {-1, -1};
volatile sig_atomic_t g_terminations = 0;

void on_signal(int sig) {
  int saved = errno;
  if (sig == SIGINT || sig == SIGTERM) g_terminations = g_terminations + 1;
  unsigned char byte = static_cast<unsigned char>(sig);
  (void)!::write(g_pipe[1], &byte, 1);  // a full pipe means plenty are pending already
  errno = saved;
}

sigset_t handled_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  return set;
}

}  // namespace

void install() {
  if (::pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) checked_fd(-1, "the signal pipe");
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR and the loop looks
  for (int sig : {SIGINT, SIGTERM, SIGUSR1}) ::sigaction(sig, &sa, nullptr);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, nullptr);
  // Started with SIGCHLD ignored, children would be reaped before we could
  // learn how they ended.
  struct sigaction by_default {};
  by_default.sa_handler = SIG_DFL;
  ::sigaction(SIGCHLD, &by_default, nullptr);
}

int fd() { return g_pipe[0]; }

int terminations() { return g_terminations; }

std::vector<int> take() {
  std::vector<int> out;
  unsigned char bytes[64];
  for (;;) {
    ssize_t n = ::read(g_pipe[0], bytes, sizeof bytes);
    if (n <= 0) break;
    out.insert(out.end(), bytes, bytes + n);
  }
  return out;
}

void block_in_this_thread(bool blocked) {
  sigset_t set = handled_set();
  ::pthread_sigmask(blocked ? SIG_BLOCK : SIG_UNBLOCK, &set, nullptr);
}

}  // namespace batchpipe::signals
