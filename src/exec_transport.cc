#include "exec_transport.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

extern char** environ;

namespace batchpipe {
namespace {

/// How long a child cut short gets between SIGTERM and SIGKILL.
constexpr auto kKillGrace = std::chrono::seconds(2);

/// The parent's environment plus the batch's own variables.
std::vector<std::string> child_environment(const Batch& batch, const AttemptInfo& info) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "BATCHPIPE_", 10) != 0) env.emplace_back(*e);
  env.push_back(fmt::format("BATCHPIPE_BATCH={}", info.batch));
  env.push_back(fmt::format("BATCHPIPE_RECORDS={}", batch.records));
  env.push_back(fmt::format("BATCHPIPE_ATTEMPT={}", info.attempt));
  env.push_back(fmt::format("BATCHPIPE_BATCH_ID={}", info.batch_id));
  return env;
}

/// A running child and the descriptors that watch it.
class Child {
 public:
  ~Child() {
    if (pid_ > 0) reap(true);
    if (stdin_ >= 0) ::close(stdin_);
    if (pidfd_ >= 0) ::close(pidfd_);
  }

  /// Starts `/bin/sh -c command`; returns the errno of a failure, or 0.
  int spawn(const std::string& command, const std::vector<std::string>& env) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return errno;
    (void)::fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none, defaults;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigemptyset(&defaults);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGUSR1, SIGHUP, SIGQUIT}) sigaddset(&defaults, sig);
    posix_spawnattr_setsigdefault(&attr, &defaults);

    std::vector<char*> envp;
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    char* argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"), const_cast<char*>(command.c_str()),
                    nullptr};
    int err = ::posix_spawn(&pid_, "/bin/sh", &actions, &attr, argv, envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(fds[0]);
    if (err != 0) {
      pid_ = -1;
      ::close(fds[1]);
      return err;
    }
    stdin_ = fds[1];
    (void)::fcntl(stdin_, F_SETFL, O_NONBLOCK);
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    return 0;
  }

  /// Feeds `data` to the child's stdin and waits for it to exit, until
  /// `control` ends the attempt. Returns the wait status, or nothing if cut short.
  std::optional<int> run(std::string_view data, AttemptControl& control) {
    size_t written = 0;
    for (;;) {
      if (stdin_ >= 0 && written == data.size()) close_stdin();
      if (control.cancelled()) return std::nullopt;
      auto deadline = control.deadline();
      if (deadline && Clock::now() >= *deadline) return std::nullopt;
      if (auto status = exited()) return status;

      pollfd fds[3] = {{control.wake_fd(), POLLIN, 0}, {pidfd_, POLLIN, 0}, {stdin_, POLLOUT, 0}};
      int timeout = poll_timeout(deadline);
      if (pidfd_ < 0) timeout = timeout < 0 ? 10 : std::min(timeout, 10);  // no pidfd: look now and then
      if (::poll(fds, 3, timeout) < 0 && errno != EINTR) return std::nullopt;
      if (fds[0].revents) control.check();
      if (stdin_ >= 0 && fds[2].revents) {
        ssize_t n = ::write(stdin_, data.data() + written, data.size() - written);
        if (n > 0) written += static_cast<size_t>(n);
        else if (n < 0 && errno != EAGAIN && errno != EINTR) close_stdin();  // EPIPE: it stopped reading
      }
    }
  }

  /// Ends the child's process group: SIGTERM, then SIGKILL after a grace.
  void kill_group() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGTERM);
    auto until = Clock::now() + kKillGrace;
    while (Clock::now() < until) {
      if (exited()) return;
      pollfd fd{pidfd_, POLLIN, 0};
      (void)::poll(&fd, pidfd_ >= 0 ? 1 : 0, pidfd_ >= 0 ? poll_timeout(until) : 10);
    }
    ::kill(-pid_, SIGKILL);
    reap(true);
  }

 private:
  void close_stdin() {
    ::close(stdin_);
    stdin_ = -1;
  }

  /// The wait status if the child has exited.
  std::optional<int> exited() { return reap(false); }

  std::optional<int> reap(bool block) {
    int status = 0;
    pid_t r;
    do r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r != pid_) return std::nullopt;
    pid_ = -1;
    return status;
  }

  pid_t pid_ = -1;
  int stdin_ = -1;
  int pidfd_ = -1;
};

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

}  // namespace

ExecTransport::ExecTransport(std::string command) : command_(std::move(command)) {}

AttemptResult ExecTransport::attempt(const Batch& batch, const AttemptInfo& info, AttemptControl& control) {
  Child child;
  if (int err = child.spawn(command_, child_environment(batch, info)))
    return {err == ENOENT || err == EACCES ? Outcome::Permanent : Outcome::Retryable,
            fmt::format("cannot start /bin/sh: {}", std::strerror(err)), std::nullopt};
  std::optional<int> status = child.run(batch.bytes, control);
  if (!status) {
    bool cancelled = control.cancelled();
    child.kill_group();
    if (cancelled) return {Outcome::Cancelled, "command stopped: batchpipe is shutting down", std::nullopt};
    return {Outcome::Retryable, fmt::format("command {}", control.deadline_reason()), std::nullopt};
  }
  if (WIFSIGNALED(*status))
    return {Outcome::Retryable, fmt::format("command killed by {}", signal_name(WTERMSIG(*status))), std::nullopt};
  int code = WEXITSTATUS(*status);
  if (code == 0) return {Outcome::Delivered, "command exited with status 0", std::nullopt, batch.bytes.size()};
  if (code == 126) return {Outcome::Permanent, fmt::format("command cannot run (exit 126): {}", command_), std::nullopt};
  if (code == 127) return {Outcome::Permanent, fmt::format("command not found (exit 127): {}", command_), std::nullopt};
  return {Outcome::Retryable, fmt::format("command exited with status {}", code), std::nullopt};
}

}  // namespace batchpipe
