#include "report/progress.h"

#include <algorithm>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/diagnostics.h"
#include "report/progress_line.h"

namespace batchpipe {
namespace {

/// The terminal's width, less one column so that the line never wraps (a
/// wrapped line could not be cleared with CR); 80 if it cannot be told.
size_t usable_width() {
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col - 1;
  return 79;
}

}  // namespace

Progress::Progress(const Metrics& metrics, bool terminal, TimePoint now)
    : metrics_(metrics),
      terminal_(terminal),
      next_(terminal ? now : now + kLineEvery),
      sample_time_(now) {}

double Progress::rate(TimePoint now) {
  uint64_t records = metrics_.records.get();
  double seconds = std::chrono::duration<double>(now - sample_time_).count();
  if (seconds >= 1.0) {
    rate_ = static_cast<double>(records - sample_records_) / seconds;
    sample_time_ = now;
    sample_records_ = records;
  } else if (sample_records_ == 0 && seconds > 0) {
    rate_ = static_cast<double>(records) / seconds;  // the first second
  }
  return rate_;
}

void Progress::tick(TimePoint now) {
  if (now < next_) return;
  std::string line = progress_line(metrics_, rate(now), static_cast<uint64_t>(std::max<int64_t>(metrics_.buffer_limit.get(), 0)));
  if (terminal_) {
    size_t width = usable_width();
    width = width > 11 ? width - 11 : 0;  // "batchpipe: " comes first
    if (line.size() > width) line.resize(width);
    diag::set_status_line(line);
    next_ = now + kRedrawEvery;
  } else {
    diag::report("progress: " + line);
    next_ = now + kLineEvery;
  }
}

void Progress::finish() {
  if (terminal_) diag::set_status_line("");
}

}  // namespace batchpipe
