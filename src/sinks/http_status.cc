#include "sinks/http_status.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <ctime>
#include <string>

namespace batchpipe {
namespace {

/// The longest Retry-After taken as sent, in seconds (136 years): longer
/// ones, as delay-seconds or as a date, are clamped to it. Nanoseconds since
/// 1970 overflow in 2262, so a date is never converted before it is clamped.
constexpr uint64_t kMaxRetryAfterSeconds = UINT32_MAX;

Duration seconds(uint64_t s) {
  return std::chrono::duration_cast<Duration>(std::chrono::seconds(std::min(s, kMaxRetryAfterSeconds)));
}

}  // namespace

Outcome classify_status(long status) {
  if (status >= 200 && status <= 299) return Outcome::Delivered;
  switch (status) {
    case 408: case 429: case 500: case 502: case 503: case 504: return Outcome::Retryable;
    default: return Outcome::Permanent;
  }
}

Outcome classify_transfer_error(CURLcode code) {
  switch (code) {
    case CURLE_OK: return Outcome::Delivered;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    // The client certificate or key cannot be used: a key replaced before
    // its certificate (or the other way round) is one mid-rotation, and the
    // next attempt reads both again; a pair that never matches stops the
    // run at its first batch (shared_cause()).
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_WEIRD_SERVER_REPLY:
    // libcurl's word for a reply that is not HTTP at all ("Received HTTP/0.9
    // when not allowed", "Unsupported HTTP version in response"): the URL's
    // scheme was checked at start-up, so here it can only be the reply, and a
    // malformed reply is retried like a broken connection.
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Outcome::Retryable;
    default:
      return Outcome::Permanent;
  }
}

std::pair<Shared, std::string> shared_cause(long status) {
  switch (status) {
    case 401:
      return {Shared::Always, "the receiver wants credentials: check the Authorization header (-H) or the user in "
                              "the URL"};
    case 403: return {Shared::Always, "the receiver refuses these credentials there: check them, and the URL"};
    case 404: return {Shared::Always, "there is nothing at that URL: check the path given to --post"};
    default: return {Shared::No, ""};
  }
}

std::pair<Shared, std::string> shared_cause(CURLcode code, std::string_view said) {
  // TLS alerts from a server that checks client certificates, whatever
  // libcurl calls the failure (the handshake's error, or the send after it).
  if (said.find("alert certificate required") != std::string_view::npos)
    return {Shared::UntilDelivered, "the server wants a client certificate: give it with --cert FILE (and --key FILE)"};
  if (said.find("alert unknown ca") != std::string_view::npos ||
      said.find("alert bad certificate") != std::string_view::npos)
    return {Shared::UntilDelivered, "the server does not accept the client certificate given with --cert: check "
                                    "that its CA is one the server trusts"};
  switch (code) {
    case CURLE_SSL_CERTPROBLEM:
      return {Shared::UntilDelivered, "the client certificate or key cannot be used: check that --key is the key "
                                      "of --cert's certificate and that both are readable PEM"};
    case CURLE_SSL_CONNECT_ERROR:
      // OpenSSL's word for a reply to its ClientHello that is not TLS at all.
      if (said.find("wrong version number") != std::string_view::npos)
        return {Shared::UntilDelivered, "the server does not speak TLS there: if it is plain HTTP, --post an "
                                        "http:// URL (or give the port it serves https on)"};
      return {Shared::No, ""};
    case CURLE_COULDNT_RESOLVE_HOST:
      return {Shared::UntilDelivered, "the host name does not resolve: check it in the URL given to --post"};
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      return {Shared::Always, "the server's certificate is not trusted: check the host name in the URL, or pass "
                              "the CA's certificate with --cacert FILE"};
    default: return {Shared::No, ""};
  }
}

bool honours_retry_after(long status) { return status == 429 || status == 503; }

std::optional<Duration> parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    uint64_t seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || end != value.data() + value.size()) seconds = kMaxRetryAfterSeconds;  // absurdly long
    return batchpipe::seconds(seconds);
  }
  if (value.find_first_of("0123456789") == std::string_view::npos) return std::nullopt;
  std::string text(value);
  time_t when = curl_getdate(text.c_str(), nullptr);  // IMF-fixdate, RFC 850 and asctime forms
  if (when < 0) return std::nullopt;
  time_t now_s = std::chrono::system_clock::to_time_t(now);
  if (when > now_s && static_cast<uint64_t>(when - now_s) >= kMaxRetryAfterSeconds)
    return batchpipe::seconds(kMaxRetryAfterSeconds);  // far in the future: clamped before converting
  auto at = std::chrono::system_clock::from_time_t(when);
  if (at <= now) return Duration::zero();
  return std::chrono::duration_cast<Duration>(at - now);
}

}  // namespace batchpipe
