#include "diagnostics.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

#include <fmt/format.h>

namespace batchpipe::diag {
namespace {

std::atomic<bool> g_quiet{false};
std::atomic<uint64_t> g_line_reports{0};

void emit(std::string_view message) {
  std::string line;
  line.reserve(message.size() + 12);
  line.append("batchpipe: ").append(message).push_back('\n');
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere left to complain to
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace

void set_quiet(bool quiet) { g_quiet = quiet; }

void error(std::string_view message) { emit(message); }

void warning(std::string_view message) {
  if (!g_quiet) emit(message);
}

void line_problem(std::string_view message) {
  uint64_t n = ++g_line_reports;
  if (!g_quiet && n <= kLineReportLimit) emit(message);
}

void finish() {
  uint64_t n = g_line_reports;
  if (!g_quiet && n > kLineReportLimit)
    emit(fmt::format("{} more line reports not shown ({} in all)", n - kLineReportLimit, n));
}

}  // namespace batchpipe::diag
