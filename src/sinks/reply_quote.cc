#include "sinks/reply_quote.h"

#include <strings.h>

#include <algorithm>
#include <cstdint>

namespace batchpipe {
namespace {

constexpr size_t kMinPiece = 3;
constexpr std::string_view kRedacted = "[redacted]";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void add(std::vector<std::string>& out, std::string_view piece) {
  piece = trim(piece);
  if (piece.size() >= kMinPiece && std::find(out.begin(), out.end(), piece) == out.end()) out.emplace_back(piece);
}

}  // namespace

bool is_secret_header(std::string_view name) {
  for (std::string_view secret : {"Authorization", "Cookie", "Proxy-Authorization"})
    if (name.size() == secret.size() && ::strncasecmp(name.data(), secret.data(), name.size()) == 0) return true;
  return false;
}

std::vector<std::string> secret_pieces(std::string_view value) {
  std::vector<std::string> out;
  value = trim(value);
  add(out, value);
  if (size_t space = value.find_first_of(" \t"); space != std::string_view::npos) add(out, value.substr(space + 1));
  for (size_t start = 0; start <= value.size();) {
    size_t end = std::min(value.find_first_of(";,", start), value.size());
    std::string_view item = value.substr(start, end - start);
    if (size_t eq = item.find('='); eq != std::string_view::npos) add(out, item.substr(eq + 1));
    start = end + 1;
  }
  return out;
}

std::vector<std::string> userinfo_secrets(std::string_view user, std::string_view password) {
  std::vector<std::string> out;
  if (password.empty()) return out;
  std::string plain = std::string(user) + ":" + std::string(password);
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string encoded;
  for (size_t i = 0; i < plain.size(); i += 3) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(plain[i])) << 16;
    if (i + 1 < plain.size()) n |= static_cast<uint32_t>(static_cast<unsigned char>(plain[i + 1])) << 8;
    if (i + 2 < plain.size()) n |= static_cast<unsigned char>(plain[i + 2]);
    encoded += kAlphabet[(n >> 18) & 63];
    encoded += kAlphabet[(n >> 12) & 63];
    encoded += i + 1 < plain.size() ? kAlphabet[(n >> 6) & 63] : '=';
    encoded += i + 2 < plain.size() ? kAlphabet[n & 63] : '=';
  }
  add(out, encoded);
  add(out, password);
  return out;
}

std::string quote_reply(std::string_view body, const std::vector<std::string>& secrets, size_t limit) {
  // Longest first, so a secret that contains another is replaced whole.
  std::vector<std::string_view> order;
  for (const std::string& s : secrets)
    if (!s.empty()) order.push_back(s);
  std::sort(order.begin(), order.end(), [](std::string_view a, std::string_view b) { return a.size() > b.size(); });
  std::string text;
  text.reserve(std::min(body.size(), 4 * limit));
  // Only as much as can be shown is redacted; a secret that straddles the
  // cut is still seen whole (the window reaches one secret further).
  size_t longest = order.empty() ? 0 : order.front().size();
  size_t window = std::min(body.size(), limit + longest);
  for (size_t i = 0; i < window;) {
    auto hit = std::find_if(order.begin(), order.end(), [&](std::string_view s) { return body.substr(i).starts_with(s); });
    if (hit != order.end()) {
      text += kRedacted;
      i += hit->size();
    } else {
      text += body[i++];
    }
  }
  std::string out;
  for (unsigned char c : std::string_view(text).substr(0, limit)) out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';
  if (text.size() > limit || window < body.size()) out += "...";
  return out;
}

}  // namespace batchpipe
