#include "base/signals.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <iterator>

#include "base/startup_error.h"

namespace batchpipe::signals {
namespace {

/// The handled signals, in the order take() lists them.
constexpr int kHandled[] = {SIGUSR1, SIGUSR2, SIGHUP, SIGINT, SIGTERM};
constexpr size_t kKinds = std::size(kHandled);

static_assert(std::atomic<uint32_t>::is_always_lock_free && std::atomic<int>::is_always_lock_free &&
                  std::atomic<bool>::is_always_lock_free,
              "the handler uses only lock-free atomics");

int g_pipe[2] = {-1, -1};
std::atomic<uint32_t> g_count[kKinds];  ///< arrivals of each kind, ever
std::atomic<int> g_terminations{0};
std::atomic<int> g_first_termination{0};
/// A wake-up byte is in the pipe, or about to be: no need for another.
std::atomic<bool> g_wake_pending{false};

// The loop thread's own bookkeeping.
uint32_t g_taken[kKinds] = {};
uint32_t g_info_reported = 0;
std::function<void()> g_info;

bool terminates(int sig) { return sig == SIGINT || sig == SIGTERM || sig == SIGHUP; }

size_t index_of(int sig) {
  for (size_t i = 0; i < kKinds; ++i)
    if (kHandled[i] == sig) return i;
  return kKinds;
}

void on_signal(int sig) {
  int saved = errno;
  size_t i = index_of(sig);
  if (i < kKinds) g_count[i].fetch_add(1);
  if (terminates(sig)) {
    g_terminations.fetch_add(1);
    int none = 0;
    g_first_termination.compare_exchange_strong(none, sig);
  }
  if (!g_wake_pending.exchange(true)) (void)!::write(g_pipe[1], "s", 1);
  errno = saved;
}

sigset_t handled_set() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kHandled) sigaddset(&set, sig);
  return set;
}

void set_action(int sig, void (*handler)(int)) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR and the loop looks
  ::sigaction(sig, &sa, nullptr);
}

/// The counting handlers, for every handled signal but a SIGHUP that came
/// ignored (nohup). Needs no descriptor, no allocation, nothing initialized:
/// a handler that runs before the pipe exists counts the signal, and its
/// write() to fd -1 fails harmlessly; install() then wakes the loop.
void install_handlers() {
  struct sigaction hup {};
  ::sigaction(SIGHUP, nullptr, &hup);
  for (int sig : kHandled)
    if (sig != SIGHUP || hup.sa_handler != SIG_IGN) set_action(sig, on_signal);
}

/// DT_PREINIT_ARRAY: the first code of ours the dynamic loader runs, once it
/// has mapped and relocated the shared libraries and before any of their
/// initializers (libstdc++, libcurl, OpenSSL ...) or ours. From here on a
/// SIGINT/SIGTERM/SIGHUP/SIGUSR1/SIGUSR2 is counted like any other; only one
/// during the loader's own work (man page, SIGNALS) takes the default action.
/// Only an executable honours .preinit_array; in a shared object it would be
/// ignored, and install() still installs the handlers.
void install_at_preinit(int, char**, char**) { install_handlers(); }
[[gnu::section(".preinit_array"), gnu::used]] void (*g_preinit)(int, char**, char**) = &install_at_preinit;

}  // namespace

void install() {
  if (g_pipe[0] < 0 && ::pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) checked_fd(-1, "the signal pipe");
  install_handlers();
  // A signal counted before the pipe existed wrote no wake-up byte: write it
  // now (a second byte, if one races in meanwhile, only wakes the loop once more).
  bool early = g_terminations.load() > 0;
  for (const auto& count : g_count) early = early || count.load() > 0;
  if (early) {
    g_wake_pending.store(true);
    (void)!::write(g_pipe[1], "s", 1);
  }
  set_action(SIGPIPE, SIG_IGN);
  set_action(SIGALRM, SIG_IGN);  // nothing of ours uses alarm(): a stray one must not kill the run
  // Started with SIGCHLD ignored, children would be reaped before we could
  // learn how they ended.
  set_action(SIGCHLD, SIG_DFL);
}

int fd() { return g_pipe[0]; }

int terminations() { return g_terminations.load(); }

std::vector<int> take() {
  // Drain first, then re-arm: a signal after the re-arm writes a new byte,
  // one before it is in the counts read below.
  char bytes[64];
  while (::read(g_pipe[0], bytes, sizeof bytes) > 0) {
  }
  g_wake_pending.store(false);
  uint32_t fresh[kKinds];
  for (size_t i = 0; i < kKinds; ++i) {
    uint32_t now = g_count[i].load();
    fresh[i] = now - g_taken[i];
    g_taken[i] = now;
  }
  std::vector<int> out;
  auto list = [&](size_t i, uint32_t at_most) {
    for (uint32_t k = 0; k < std::min(fresh[i], at_most); ++k) out.push_back(kHandled[i]);
    fresh[i] = 0;
  };
  list(index_of(SIGUSR1), 1);
  list(index_of(SIGUSR2), 1);
  if (int first = g_first_termination.load(); first != 0) list(index_of(first), 2);
  for (int sig : {SIGHUP, SIGINT, SIGTERM}) list(index_of(sig), 2);
  return out;
}

void on_info(std::function<void()> report) { g_info = std::move(report); }

void report_info_if_asked() {
  uint32_t asked = g_count[index_of(SIGUSR2)].load();
  if (asked == g_info_reported) return;
  g_info_reported = asked;
  int saved = errno;  // callers look at the errno of the write the signal interrupted
  if (g_info) g_info();
  errno = saved;
}

void block_in_this_thread(bool blocked) {
  sigset_t set = handled_set();
  ::pthread_sigmask(blocked ? SIG_BLOCK : SIG_UNBLOCK, &set, nullptr);
}

}  // namespace batchpipe::signals
