// Run as PID 1 (a container without an init), batchpipe inherits every
// process an --exec command leaves behind, and must reap them or they stay
// zombies for ever. It must not reap the commands it waits for itself,
// though, or their owners would lose their exit status: those are kept in a
// registry the reaper leaves alone.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace batchpipe {

namespace own_children {

/// Runs `start` (which starts a child and returns its pid, or -1) with the
/// registry locked, and registers the child, so the reaper can never see it
/// unregistered. Returns what `start` returned.
pid_t spawn(const std::function<pid_t()>& start);

/// The child `pid` from spawn() has been waited for: forget it. Call after
/// the wait, never before (the reaper would take its status).
void forget(pid_t pid);

/// Reaps the zombies among our children that spawn() did not register;
/// returns how many. Looks with WNOWAIT first, so a registered child is
/// never touched; stops at the first one (its owner reaps it soon).
int reap_strays();

}  // namespace own_children

/// While it lives, and only if batchpipe is PID 1, reaps strays every
/// kInterval on a thread of its own. Does nothing otherwise.
class OrphanReaper {
 public:
  static constexpr auto kInterval = std::chrono::milliseconds(200);

  OrphanReaper();
  ~OrphanReaper();
  OrphanReaper(const OrphanReaper&) = delete;
  OrphanReaper& operator=(const OrphanReaper&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace batchpipe
