#include "base/exit_status.h"

namespace batchpipe {

ExitStatus combine(ExitStatus a, ExitStatus b) {
  if (is_signal(a)) return a;
  if (is_signal(b)) return b;
  return static_cast<int>(a) >= static_cast<int>(b) ? a : b;
}

}  // namespace batchpipe
