#include "sinks/exec_transport.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "batch/field_template.h"
#include "batch/route.h"
#include "base/diagnostics.h"
#include "sinks/orphan_reaper.h"
#include "sinks/reply_quote.h"

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
  if (batch.route)  // --env, rendered from the records' fields; batch fields filled in now
    for (const std::string& e : batch.route->env) env.push_back(expand_marks(e, {info.batch_id, info.batch, info.attempt}));
  return env;
}

/// A running child and the descriptors that watch it.
class Child {
 public:
  ~Child() {
    if (pid_ > 0) reap(true);
    if (pidfd_ >= 0) ::close(pidfd_);
  }

  /// Starts `/bin/sh -c command` with `input` as its stdin, `output` as its
  /// stdout and `errors` (-1: ours) as its stderr; returns the errno of a
  /// failure, or 0.
  int spawn(const std::string& command, const std::vector<std::string>& env, int input, int output, int errors) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, input, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, output, STDOUT_FILENO);
    if (errors >= 0) posix_spawn_file_actions_adddup2(&actions, errors, STDERR_FILENO);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none, defaults;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigfillset(&defaults);  // what batchpipe ignores, or was started ignoring, the command does not
    posix_spawnattr_setsigdefault(&attr, &defaults);

    std::vector<char*> envp;
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    char* argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"), const_cast<char*>(command.c_str()),
                    nullptr};
    int err = 0;
    own_children::spawn([&] {  // registered: a PID 1 reaper must leave it to us
      err = ::posix_spawn(&pid_, "/bin/sh", &actions, &attr, argv, envp.data());
      return err == 0 ? pid_ : -1;
    });
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (err != 0) {
      pid_ = -1;
      return err;
    }
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    return 0;
  }

  /// Waits for the child to exit, until `control` ends the attempt. Returns
  /// the wait status, or nothing if cut short.
  std::optional<int> run(AttemptControl& control) {
    for (;;) {
      if (auto status = exited()) return status;  // finished in time beats any deadline
      if (control.cancelled()) return std::nullopt;
      auto deadline = control.deadline();
      if (deadline && Clock::now() >= *deadline) return std::nullopt;
      pollfd fds[2] = {{control.wake_fd(), POLLIN, 0}, {pidfd_, POLLIN, 0}};
      int timeout = poll_timeout(deadline);
      if (pidfd_ < 0) timeout = timeout < 0 ? 10 : std::min(timeout, 10);  // no pidfd: look now and then
      if (::poll(fds, 2, timeout) < 0 && errno != EINTR) return std::nullopt;
      if (fds[0].revents) control.check();
    }
  }

  /// Ends the child's process group: SIGTERM, then SIGKILL after a grace.
  void kill_group() {
    if (pid_ <= 0) return;
    pid_t group = pid_;
    ::kill(-group, SIGTERM);
    auto until = Clock::now() + kKillGrace;
    // Wait for the child, then for whatever else is left in its group.
    while (Clock::now() < until) {
      if (pid_ > 0) exited();
      if (pid_ <= 0 && ::kill(-group, 0) != 0) return;
      pollfd fd{pidfd_, POLLIN, 0};
      bool watch_child = pid_ > 0 && pidfd_ >= 0;
      (void)::poll(&fd, watch_child ? 1 : 0, watch_child ? poll_timeout(until) : 10);
    }
    ::kill(-group, SIGKILL);
    if (pid_ > 0) reap(true);
  }

 private:
  /// The wait status if the child has exited.
  std::optional<int> exited() { return reap(false); }

  std::optional<int> reap(bool block) {
    int status = 0;
    pid_t r;
    do r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r != pid_) return std::nullopt;
    own_children::forget(pid_);
    pid_ = -1;
    return status;
  }

  pid_t pid_ = -1;
  int pidfd_ = -1;
};

/// The batch as a sealed in-memory file: the child's stdin. Unlike a pipe it
/// can be read by name (/dev/stdin) and seeked, it cannot be changed between
/// attempts, and a child that never reads it costs nothing. Returns -1 and
/// sets errno on failure.
int batch_file(std::string_view data) {
  int fd = ::memfd_create("batchpipe-batch", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -1;
  for (size_t done = 0; done < data.size();) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      errno = err;
      return -1;
    }
    done += static_cast<size_t>(n);
  }
  // Unsealed, an attempt could change what the next one sees: no attempt then.
  if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0 ||
      ::lseek(fd, 0, SEEK_SET) != 0) {
    int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

/// Stderr bytes a reply rule reads; the rest is passed on, not kept.
constexpr size_t kStderrKept = 1 << 20;

/// Writes what the command wrote on the held stderr `fd` to ours, a piece at
/// a time; returns its first kStderrKept bytes.
std::string pass_on(int fd) {
  std::string kept;
  char buffer[1 << 16];
  for (off_t offset = 0;;) {
    ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return kept;
    std::string_view piece(buffer, static_cast<size_t>(n));
    diag::raw(piece);
    kept.append(piece.substr(0, kStderrKept - std::min(kStderrKept, kept.size())));
    offset += n;
  }
}

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

}  // namespace

ExecTransport::ExecTransport(std::string command, FailureRules rules, bool keep_stderr)
    : command_(std::move(command)), rules_(std::move(rules)), keep_stderr_(keep_stderr || !rules_.reply.empty()) {}

AttemptResult ExecTransport::attempt(const Batch& batch, const AttemptInfo& info, AttemptControl& control) {
  AttemptResult result = run(batch, info, control);
  result.bytes_sent = batch.body().size();
  return result;
}

AttemptResult ExecTransport::run(const Batch& batch, const AttemptInfo& info, AttemptControl& control) {
  if (batch.route && !batch.route->error.empty()) return {Outcome::Permanent, batch.route->error, std::nullopt};
  int input = batch_file(batch.body());
  if (input < 0)
    return {Outcome::Retryable, fmt::format("cannot hold the batch for the command: {}", std::strerror(errno)),
            std::nullopt};
  // The command's stdout is kept, in memory, until the commit step writes it
  // to ours in batch order; a file rather than a pipe, so a command that
  // writes much never waits for us.
  UniqueFd output(::memfd_create("batchpipe-output", MFD_CLOEXEC));
  if (!output) {
    ::close(input);
    return {Outcome::Retryable, fmt::format("cannot hold the command's output: {}", std::strerror(errno)),
            std::nullopt};
  }
  // Held, then passed on whole when the command ends (a file, for the same
  // reason as its stdout): what a reply rule reads.
  UniqueFd errors;
  if (keep_stderr_) {
    errors = UniqueFd(::memfd_create("batchpipe-stderr", MFD_CLOEXEC));
    if (!errors) {
      ::close(input);
      return {Outcome::Retryable, fmt::format("cannot hold the command's stderr: {}", std::strerror(errno)),
              std::nullopt};
    }
  }
  Child child;
  int err = child.spawn(command_, child_environment(batch, info), input, output.get(), errors ? errors.get() : -1);
  ::close(input);
  if (err == ENOENT || err == EACCES) {
    AttemptResult r{Outcome::Permanent, fmt::format("cannot start /bin/sh: {}", std::strerror(err)), std::nullopt};
    r.shared = Shared::Always;
    r.fix = "/bin/sh is needed to run the command";
    return r;
  }
  if (err) return {Outcome::Retryable, fmt::format("cannot start /bin/sh: {}", std::strerror(err)), std::nullopt};
  std::optional<int> status = child.run(control);
  std::string said;  // the command's stderr, when held: passed on once it has ended
  auto pass_on_stderr = [&] {
    if (errors) said = pass_on(errors.get());
  };
  if (!status) {
    bool cancelled = control.cancelled();
    child.kill_group();
    pass_on_stderr();
    if (cancelled) return {Outcome::Cancelled, "command stopped: batchpipe is shutting down", std::nullopt};
    return {Outcome::Retryable, fmt::format("command {}", control.deadline_reason()), std::nullopt};
  }
  pass_on_stderr();
  if (WIFSIGNALED(*status))
    return {Outcome::Retryable, fmt::format("command killed by {}", signal_name(WTERMSIG(*status))), std::nullopt};
  int code = WEXITSTATUS(*status);
  if (code == 0) {
    AttemptResult delivered{Outcome::Delivered, "command exited with status 0", std::nullopt};
    delivered.output = std::move(output);
    return delivered;
  }
  AttemptResult failed{Outcome::Retryable, fmt::format("command exited with status {}", code), std::nullopt};
  if (code == 126) {
    failed = {Outcome::Permanent, fmt::format("command cannot run (exit 126): {}", command_), std::nullopt};
    failed.shared = Shared::Always;
    failed.fix = "a program in the command is not executable (chmod +x?) or is a directory";
  } else if (code == 127) {
    failed = {Outcome::Permanent, fmt::format("command not found (exit 127): {}", command_), std::nullopt};
    failed.shared = Shared::Always;
    failed.fix = "a program in the command was not found: check its name and PATH";
  }
  failed.exit_status = code;
  Ruling ruling = rules_.decide(code, said);
  if (ruling.outcome) {  // the user's word replaces ours, the fail-fast rule's included
    failed.outcome = *ruling.outcome;
    failed.shared = Shared::No;
  }
  if (!ruling.rule.empty()) failed.shared = Shared::No;
  failed.bisect = ruling.bisect;
  if (!said.empty()) failed.detail += fmt::format(": \"{}\"", quote_reply(said, {}));
  if (!ruling.rule.empty()) failed.detail += fmt::format(" ({})", ruling.rule);
  return failed;
}

}  // namespace batchpipe
