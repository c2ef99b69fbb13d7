#include "sinks/orphan_reaper.h"

#include <sys/wait.h>
#include <unistd.h>

#include <unordered_set>

#include "base/signals.h"

namespace batchpipe {
namespace own_children {
namespace {

std::mutex g_mutex;
std::unordered_set<pid_t> g_pids;

}  // namespace

pid_t spawn(const std::function<pid_t()>& start) {
  std::lock_guard lock(g_mutex);
  pid_t pid = start();
  if (pid > 0) g_pids.insert(pid);
  return pid;
}

void forget(pid_t pid) {
  std::lock_guard lock(g_mutex);
  g_pids.erase(pid);
}

int reap_strays() {
  std::lock_guard lock(g_mutex);
  int reaped = 0;
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0) break;  // ECHILD: no children
    if (info.si_pid == 0) break;                                             // none has exited
    if (g_pids.count(info.si_pid)) break;  // ours: its owner waits for it
    siginfo_t gone{};
    // A zombie keeps its pid, so this is the process just seen.
    if (::waitid(P_PID, static_cast<id_t>(info.si_pid), &gone, WEXITED | WNOHANG) != 0) break;
    ++reaped;
  }
  return reaped;
}

}  // namespace own_children

OrphanReaper::OrphanReaper() {
  if (::getpid() != 1) return;
  thread_ = std::thread([this] {
    signals::block_in_this_thread(true);
    std::unique_lock lock(mutex_);
    while (!stop_) {
      wake_.wait_for(lock, kInterval, [&] { return stop_; });
      own_children::reap_strays();
    }
  });
}

OrphanReaper::~OrphanReaper() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

}  // namespace batchpipe
