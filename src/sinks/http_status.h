// How an HTTP delivery attempt ended, as the retry engine sees it: pure
// functions over status codes, libcurl results and Retry-After values.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <curl/curl.h>

#include "deliver/retry_policy.h"
#include "base/units.h"

namespace batchpipe {

/// 2xx: delivered. 408, 429, 500, 502, 503, 504: retryable. Every other
/// status, 3xx included (redirects are not followed), is permanent.
Outcome classify_status(long status);

/// For a transfer that ended without an HTTP status. Refused or reset
/// connections, name-resolution failures, timeouts, TLS handshake failures
/// and malformed replies (empty, cut short, not HTTP at all) are retryable;
/// a malformed URL or a refused certificate will not get better and are
/// permanent.
Outcome classify_transfer_error(CURLcode code);

/// Whether every later batch would fail as a request that got `status` did
/// (401, 403, 404: wrong credentials or URL), and what to fix if so.
std::pair<Shared, std::string> shared_cause(long status);

/// The same for a transfer that ended without an HTTP status: a certificate
/// that is not trusted (Always), a host name that does not resolve or an
/// https:// URL whose server speaks plain HTTP (UntilDelivered: a mistake if
/// nothing was ever delivered). `said` is libcurl's own message, which tells
/// the last apart from other handshake failures ("wrong version number").
std::pair<Shared, std::string> shared_cause(CURLcode code, std::string_view said = {});

/// Whether a response's Retry-After should be obeyed (429 and 503).
bool honours_retry_after(long status);

/// Parses a Retry-After value: delay-seconds ("120") or an HTTP-date
/// ("Wed, 21 Oct 2015 07:28:00 GMT"), taken relative to `now`. A date in the
/// past means zero; a wait beyond 2^32-1 seconds (136 years, as either form)
/// is clamped to that, so no date (not even after 2262) overflows. Nothing
/// for anything else.
std::optional<Duration> parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now);

}  // namespace batchpipe
