// Failing fast: a failure that every later batch would share (a command
// that does not exist, a host name that does not resolve, a certificate that
// is not trusted, 401/403/404) stops the run at once with exit status 5,
// rather than failing batch after batch. Pure.
#pragma once

#include <string>

namespace batchpipe {

/// Whether a failed attempt's cause is one every batch shares.
enum class Shared {
  No,              ///< this batch's own (a 400, a timeout, a crash)
  Always,          ///< a wrong command, URL, credential or certificate
  UntilDelivered,  ///< a host name that does not resolve: a typo if nothing was ever delivered, else a DNS blip
};

/// Whether the run stops at once after an attempt that failed with `shared`,
/// `delivered_before` telling whether any batch of the run got through.
inline bool stops_the_run(Shared shared, bool delivered_before) {
  return shared == Shared::Always || (shared == Shared::UntilDelivered && !delivered_before);
}

}  // namespace batchpipe
