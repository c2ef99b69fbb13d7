#include "cli/url_check.h"

#include <algorithm>
#include <cctype>

#include <curl/curl.h>
#include <fmt/format.h>

namespace batchpipe {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

/// What libcurl's URL parser says of `url`, or "" if it takes it.
std::string curl_verdict(const std::string& url) {
  CURLU* u = curl_url();
  CURLUcode code = curl_url_set(u, CURLUPART_URL, url.c_str(), 0);
  curl_url_cleanup(u);
  return code == CURLUE_OK ? "" : curl_url_strerror(code);
}

/// `url` with any user:password replaced by "***", for messages.
std::string masked(std::string_view url) {
  size_t sep = url.find("://");
  size_t start = sep == std::string_view::npos ? 0 : sep + 3;
  size_t end = std::min(url.find_first_of("/?#", start), url.size());
  size_t at = url.substr(0, end).rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(url);
  return fmt::format("{}***{}", url.substr(0, start), url.substr(at));
}

/// True when `url`, which has no "://", reads as HOST[:PORT] with an optional
/// path, query or fragment, so that putting "http://" in front is the fix.
/// A misspelt scheme ("http//h", "https:h", "http:/h") is not a host: putting
/// "http://" in front of it would make a URL whose host is "http".
bool host_without_scheme(std::string_view url) {
  std::string_view authority = url.substr(0, url.find_first_of("/?#"));
  std::string_view rest = url.substr(authority.size());
  if (rest.starts_with("//")) return false;
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority = authority.substr(at + 1);
  std::string_view host = authority, port;
  if (authority.starts_with('[')) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(0, close + 1);
    port = authority.substr(close + 1);
    if (!port.empty() && !port.starts_with(':')) return false;
    if (!port.empty()) port = port.substr(1);
  } else {
    size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      if (port.empty()) return false;
    }
    if (host.empty() || !std::all_of(host.begin(), host.end(), [](unsigned char c) {
          return std::isalnum(c) || c == '.' || c == '-' || c == '_';
        }))
      return false;
    std::string name = lower(host);
    if (name == "http" || name == "https") return false;
  }
  return std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

UrlCheck check_post_url(std::string_view url) {
  UrlCheck check;
  auto fail = [&](std::string_view why) {
    check.error = fmt::format("--post {}: {}", masked(url), why);
    return check;
  };
  if (url.empty()) {
    check.error = "--post: the URL is empty";
    return check;
  }
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    if (host_without_scheme(url)) return fail(fmt::format("add a scheme, e.g. http://{}", masked(url)));
    return fail("malformed URL; expected http://HOST[:PORT][/PATH] or https://...");
  }
  std::string scheme = lower(url.substr(0, sep));
  if (scheme != "http" && scheme != "https")
    return fail(fmt::format("{}:// is not supported; expected an http:// or https:// URL", url.substr(0, sep)));
  check.https = scheme == "https";

  std::string_view rest = url.substr(sep + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    check.warnings.push_back(fmt::format(
        "--post: the URL's {} can be read by other users in ps and /proc; put an 'Authorization: Basic ...' "
        "header in a file only you can read and pass it with -H @FILE instead",
        authority.substr(0, at).find(':') == std::string_view::npos ? "user name" : "user:password"));
    authority = authority.substr(at + 1);
  }
  // has_port: a ':' introduces a port, so "HOST:" with nothing after it is a
  // bad port too (libcurl would quietly use the scheme's default).
  std::string_view host = authority, port;
  bool has_port = false;
  if (authority.starts_with('[')) {  // [IPv6]:port
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("bad host: no ']' after the IPv6 address");
    host = authority.substr(0, close + 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return fail("bad host: expected ':PORT' after the IPv6 address");
      port = authority.substr(close + 2);
      has_port = true;
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    has_port = true;
  }
  if (host.empty()) return fail(fmt::format("missing host; expected {}://HOST[:PORT][/PATH]", scheme));
  if (has_port) {
    bool digits = !port.empty() && port.size() <= 5 && std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); });
    int number = 0;
    for (char c : port) number = digits ? number * 10 + (c - '0') : 0;
    if (port.empty()) return fail("bad port: nothing after ':'; give a number from 1 to 65535 or drop the ':'");
    if (!digits || number < 1 || number > 65535)
      return fail(fmt::format("bad port '{}'; expected a number from 1 to 65535", port));
  }
  if (std::string why = curl_verdict(std::string(url)); !why.empty())
    return fail(fmt::format("not a usable URL: {}", why));
  return check;
}

}  // namespace batchpipe
