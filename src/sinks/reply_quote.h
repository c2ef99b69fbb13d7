// Quoting the start of a server's reply in a message, without repeating the
// secrets we sent: a server that echoes request headers in its error page
// would otherwise put a token on stderr.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace batchpipe {

/// Response bytes quoted in a message about a failed attempt.
inline constexpr size_t kQuotedReply = 200;

/// Headers whose values are secret wherever they come from: Authorization,
/// Cookie, Proxy-Authorization (any case).
bool is_secret_header(std::string_view name);

/// The strings to redact for one secret header value: the value itself, what
/// follows its scheme ("Bearer X" -> "X"), and each value of a cookie-style
/// list ("a=X; b=Y" -> "X", "Y"). Pieces shorter than 3 bytes are left out.
std::vector<std::string> secret_pieces(std::string_view value);

/// The secrets in a URL's userinfo: the password, and the credentials of the
/// Basic Authorization header libcurl makes of it (base64 of "user:password").
/// `user` and `password` are URL-decoded. Nothing without a password.
std::vector<std::string> userinfo_secrets(std::string_view user, std::string_view password);

/// The printable start of `body` for a message: every occurrence of each
/// secret replaced by "[redacted]" (before anything is cut, so no secret is
/// half shown), bytes outside printable ASCII shown as '.', and at most
/// `limit` bytes kept, then "...".
std::string quote_reply(std::string_view body, const std::vector<std::string>& secrets, size_t limit = kQuotedReply);

}  // namespace batchpipe
