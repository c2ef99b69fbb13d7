// Checking a --post URL at start-up, before anything is read or sent.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace batchpipe {

struct UrlCheck {
  std::string error;                  ///< one line naming --post; empty when the URL can be used
  std::vector<std::string> warnings;  ///< e.g. a password in the URL, which ps shows
  bool https = false;
};

/// Checks `url` as --post takes it: http:// or https://, a host, a port from
/// 1 to 65535 if one is given, and nothing else libcurl's URL parser refuses.
/// Messages suggest the fix ("add a scheme, e.g. http://localhost:8080").
/// Pure: nothing is resolved or connected.
UrlCheck check_post_url(std::string_view url);

}  // namespace batchpipe
