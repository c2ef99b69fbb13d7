#include "base/diagnostics.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <string>

#include <fmt/format.h>

namespace batchpipe::diag {
namespace {

std::atomic<bool> g_quiet{false};
std::atomic<uint64_t> g_line_reports{0};

/// Erases the terminal line the cursor is on and goes to its start.
constexpr std::string_view kClearLine = "\r\x1b[K";

/// Held for the one write of each message, so that the status line drawn
/// after a message is the latest one and nothing lands between the two.
std::mutex g_mutex;
std::string g_status;  ///< the status line drawn now, "batchpipe: " included; "" = none

void write_all(const std::string& text) {
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere left to complain to
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void emit(std::string_view message) {
  std::lock_guard lock(g_mutex);
  std::string text;
  text.reserve(message.size() + 16 + g_status.size());
  if (!g_status.empty()) text.append(kClearLine);
  text.append("batchpipe: ").append(message).push_back('\n');
  text.append(g_status);
  write_all(text);
}

}  // namespace

void set_quiet(bool quiet) { g_quiet = quiet; }

void error(std::string_view message) { emit(message); }

void warning(std::string_view message) {
  if (!g_quiet) emit(message);
}

void report(std::string_view message) { emit(message); }

void raw(std::string_view text) {
  std::lock_guard lock(g_mutex);
  std::string out;
  if (!g_status.empty()) out.append(kClearLine);
  out.append(text).append(g_status);
  write_all(out);
}

void set_status_line(std::string_view line) {
  // A redraw does not wait behind another thread's message, which may be
  // blocked on a slow terminal: that message draws the line again anyway,
  // and the next redraw brings it up to date. Clearing it always waits.
  std::unique_lock lock(g_mutex, std::defer_lock);
  if (line.empty())
    lock.lock();
  else if (!lock.try_lock())
    return;
  if (line.empty() && g_status.empty()) return;
  g_status.clear();
  if (line.empty()) {
    write_all(std::string(kClearLine));
    return;
  }
  g_status.append("batchpipe: ").append(line);
  write_all("\r" + g_status + "\x1b[K");  // overwrite, then erase what is left: no flicker
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
