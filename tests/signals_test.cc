#include <catch2/catch.hpp>

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <csignal>

#include "base/signals.h"

using namespace batchpipe;

namespace {

/// Our handlers, over those Catch2 installs for SIGINT and SIGTERM around
/// each test case.
void install_ours() { signals::install(); }

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

}  // namespace

TEST_CASE("signals: a flood of SIGUSR1 cannot hide the SIGTERM after it") {
  install_ours();
  (void)signals::take();
  int before = signals::terminations();
  // raise() runs the handler before it returns: each of these is handled.
  for (int i = 0; i < 200000; ++i) std::raise(SIGUSR1);
  std::raise(SIGTERM);
  CHECK(readable(signals::fd()));
  CHECK(signals::take() == std::vector<int>{SIGUSR1, SIGTERM});
  CHECK(signals::terminations() == before + 1);
  CHECK_FALSE(readable(signals::fd()));
  CHECK(signals::take().empty());
}

TEST_CASE("signals: terminating ones are listed up to twice, the first kind first") {
  install_ours();
  (void)signals::take();
  int before = signals::terminations();
  std::raise(SIGUSR2);
  std::raise(SIGINT);
  std::raise(SIGHUP);
  std::raise(SIGHUP);
  std::raise(SIGHUP);
  std::vector<int> got = signals::take();
  // SIGINT came first, in this test binary's life, only if no earlier test
  // raised a terminating signal; the order among kinds follows the very first.
  REQUIRE(got.size() == 4);
  CHECK(got[0] == SIGUSR2);
  CHECK(std::count(got.begin(), got.end(), SIGHUP) == 2);
  CHECK(std::count(got.begin(), got.end(), SIGINT) == 1);
  CHECK(signals::terminations() == before + 4);
}

TEST_CASE("signals: SIGUSR2 runs the info report once per batch of signals") {
  install_ours();
  int reports = 0;
  signals::on_info([&] { ++reports; });
  signals::report_info_if_asked();  // whatever earlier tests raised
  reports = 0;
  signals::report_info_if_asked();
  CHECK(reports == 0);
  std::raise(SIGUSR2);
  std::raise(SIGUSR2);
  errno = EINTR;
  signals::report_info_if_asked();
  CHECK(reports == 1);
  CHECK(errno == EINTR);
  signals::report_info_if_asked();
  CHECK(reports == 1);
  signals::on_info(nullptr);
  (void)signals::take();
}

TEST_CASE("signals: SIGALRM is ignored") {
  install_ours();
  std::raise(SIGALRM);  // would end the test binary if it were not
  CHECK(signals::take().empty());
}
