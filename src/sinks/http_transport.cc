#include "sinks/http_transport.h"

#include <strings.h>

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

#include "sinks/http_status.h"
#include "sinks/reply_quote.h"
#include "sinks/request_template.h"
#include "batch/field_template.h"
#include "batch/route.h"
#include "base/startup_error.h"

namespace batchpipe {
namespace {

/// Response bytes kept; the rest is read and dropped.
constexpr size_t kResponseCap = 1 << 20;

bool has_header(const std::vector<std::string>& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(), [&](const std::string& h) {
    return h.size() > name.size() && h[name.size()] == ':' && ::strncasecmp(h.data(), name.data(), name.size()) == 0;
  });
}

/// "host:port" of `url`, or nothing if it is not an http(s) URL.
std::optional<std::string> endpoint_of(const std::string& url) {
  CURLU* u = curl_url();
  std::optional<std::string> out;
  char *scheme = nullptr, *host = nullptr, *port = nullptr;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
      (std::string_view(scheme) == "http" || std::string_view(scheme) == "https"))
    out = fmt::format("{}:{}", host, port);
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(u);
  return out;
}

/// What a reply must not show of the URL's userinfo (see userinfo_secrets()).
std::vector<std::string> secrets_of_userinfo(const std::string& url) {
  CURLU* u = curl_url();
  char *user = nullptr, *password = nullptr;
  std::vector<std::string> out;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_PASSWORD, &password, CURLU_URLDECODE) == CURLUE_OK) {
    if (curl_url_get(u, CURLUPART_USER, &user, CURLU_URLDECODE) != CURLUE_OK) user = nullptr;
    out = userinfo_secrets(user ? user : "", password);
  }
  curl_free(user);
  curl_free(password);
  curl_url_cleanup(u);
  return out;
}

/// `url` without its user:password, which messages never show.
std::string without_userinfo(const std::string& url) {
  CURLU* u = curl_url();
  char* out = nullptr;
  std::string result = "(a URL that cannot be parsed)";
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    curl_url_set(u, CURLUPART_USER, nullptr, 0);
    curl_url_set(u, CURLUPART_PASSWORD, nullptr, 0);
    if (curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK) result = out;
  }
  curl_free(out);
  curl_url_cleanup(u);
  return result;
}

/// For a 3xx answer: where it points, and that batchpipe stays put.
std::string redirect_note(std::string_view url, const std::string& redirect) {
  std::string location = without_userinfo(redirect);
  bool to_https = url.size() >= 7 && ::strncasecmp(url.data(), "http://", 7) == 0 && location.size() >= 8 &&
                  ::strncasecmp(location.data(), "https://", 8) == 0;
  return fmt::format(", Location: {}{}; batchpipe does not follow redirects, so --post that URL instead", location,
                     to_https ? " (the server wants https)" : "");
}

}  // namespace

std::unique_ptr<HttpTransport> HttpTransport::create(HttpOptions options, std::string& error) {
  if (CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK)
    throw StartupError(fmt::format("cannot set libcurl up: {}", curl_easy_strerror(rc)));
  std::string parse_error;
  auto routed = FieldTemplate::parse(options.url, TextPlace::UrlPath, parse_error);
  auto endpoint = endpoint_of(expand_template(routed ? routed->sample("x") : options.url, {"0", 1, 1}));
  if (!endpoint) {
    error = "--post: expected an http:// or https:// URL";
    return nullptr;
  }
  for (std::string& s : secrets_of_userinfo(options.url)) options.secrets.push_back(std::move(s));
  return std::unique_ptr<HttpTransport>(new HttpTransport(std::move(options), std::move(*endpoint)));
}

HttpTransport::HttpTransport(HttpOptions options, std::string endpoint)
    : options_(std::move(options)), endpoint_(std::move(endpoint)), easy_(curl_easy_init()), multi_(curl_multi_init()) {
  if (!easy_ || !multi_) {
    curl_multi_cleanup(multi_);  // both take null
    curl_easy_cleanup(easy_);
    throw StartupError("cannot set libcurl up: out of memory");
  }
  curl_easy_setopt(easy_, CURLOPT_URL, options_.url.c_str());
  if (options_.method != "POST") curl_easy_setopt(easy_, CURLOPT_CUSTOMREQUEST, options_.method.c_str());
  curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, 0L);  // credentials never travel to another host
  curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy_, CURLOPT_USERAGENT, "batchpipe/" BATCHPIPE_VERSION);
  curl_easy_setopt(easy_, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(options_.connect_timeout).count()));
  curl_easy_setopt(easy_, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &HttpTransport::on_response);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, error_);
  if (!options_.cacert.empty()) curl_easy_setopt(easy_, CURLOPT_CAINFO, options_.cacert.c_str());
  if (!options_.aws.param.empty()) {  // libcurl signs every header we send, and the body as sent
    curl_easy_setopt(easy_, CURLOPT_AWS_SIGV4, options_.aws.param.c_str());
    curl_easy_setopt(easy_, CURLOPT_USERNAME, options_.aws.access_key.c_str());
    curl_easy_setopt(easy_, CURLOPT_PASSWORD, options_.aws.secret_key.c_str());
    curl_easy_setopt(easy_, CURLOPT_EXPECT_100_TIMEOUT_MS, 1L);
  }
  if (!options_.cert.empty()) {
    curl_easy_setopt(easy_, CURLOPT_SSLCERT, options_.cert.c_str());
    curl_easy_setopt(easy_, CURLOPT_SSLCERTTYPE, "PEM");
    if (!options_.key.empty()) curl_easy_setopt(easy_, CURLOPT_SSLKEY, options_.key.c_str());
    // A resumed TLS session would go on with the certificate it began with,
    // and a second connection kept would be reused with it after a change.
    curl_easy_setopt(easy_, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, 1L);
    client_certificate_changed();  // notes the files as they are now
  }
  if (options_.insecure) {
    curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYHOST, 0L);
  }
}

HttpTransport::~HttpTransport() {
  curl_multi_cleanup(multi_);
  curl_easy_cleanup(easy_);
}

size_t HttpTransport::on_response(char* data, size_t size, size_t count, void* self) {
  auto* t = static_cast<HttpTransport*>(self);
  size_t n = size * count;
  size_t cap = std::max<size_t>(kResponseCap, t->options_.reply_limit);
  size_t keep = std::min(n, cap - std::min(cap, t->response_.size()));
  t->response_.append(data, keep);
  if (keep < n) t->response_cut_ = true;
  return n;
}

std::variant<std::string_view, AttemptResult> HttpTransport::body(const Batch& batch, const AttemptInfo& info,
                                                                  AttemptControl& control) {
  if (!options_.compress) return batch.bytes;
  // Keyed by the request's own id: a part of a split batch, or the records
  // a reply asked to send again, share the batch's number but not its body.
  if (compressed_for_ != info.batch_id) {
    compressed_for_.clear();
    std::string error;
    std::optional<AttemptResult> cut;
    auto give_up = [&] {
      if (control.cancelled())
        cut = AttemptResult{Outcome::Cancelled, "request stopped: batchpipe is shutting down", std::nullopt};
      else if (auto deadline = control.deadline(); deadline && Clock::now() >= *deadline)
        cut = AttemptResult{Outcome::Retryable,
                            fmt::format("request to {} {} (waiting to compress it)", endpoint_, control.deadline_reason()),
                            std::nullopt};
      return cut.has_value();
    };
    std::optional<CodecPool::Lease> codec = options_.compress->take(give_up, error);
    if (cut) return std::move(*cut);
    bool made = codec && (*codec)->compress(batch.bytes, compressed_, error);
    codec.reset();  // the compressor goes back before the body is sent
    held_ = compressed_.capacity() + response_.capacity();
    if (!made) return AttemptResult{Outcome::Retryable, error, std::nullopt};
    compressed_for_ = info.batch_id;
  }
  return compressed_.view();
}

bool HttpTransport::client_certificate_changed() {
  if (options_.cert.empty()) return false;
  FileStamp cert = stamp_of_path(options_.cert), key = options_.key.empty() ? FileStamp{} : stamp_of_path(options_.key);
  bool changed = !(cert == cert_stamp_) || !(key == key_stamp_);
  cert_stamp_ = cert;
  key_stamp_ = key;
  return changed;
}

AttemptResult HttpTransport::attempt(const Batch& batch, const AttemptInfo& info, AttemptControl& control) {
  static const HeaderSet kNone;
  // A certificate replaced (cert-manager, say): a new connection, a new handshake.
  curl_easy_setopt(easy_, CURLOPT_FRESH_CONNECT, client_certificate_changed() ? 1L : 0L);
  std::shared_ptr<const HeaderSet> sent = options_.headers ? options_.headers->current() : nullptr;
  AttemptResult result = send(batch, info, control, sent ? *sent : kNone);
  if ((result.status != 401 && result.status != 403) || result.outcome == Outcome::Delivered) return result;
  // Refused credentials: perhaps a token or a certificate replaced while
  // this request was on its way, or a file rewritten in place within one
  // tick of its clock. Read again, and if anything changed, sent again now.
  bool new_certificate = client_certificate_changed();
  std::string why;
  std::shared_ptr<const HeaderSet> now = sent;
  if (sent && options_.headers->rereads()) now = options_.headers->reread(why);
  bool new_headers = now != sent && now->version != sent->version;
  if (!new_certificate && !new_headers) {
    if (!why.empty()) result.detail += fmt::format(" ({})", why);
    return result;
  }
  if (control.cancelled()) return result;
  curl_easy_setopt(easy_, CURLOPT_FRESH_CONNECT, new_certificate ? 1L : 0L);
  uint64_t bytes = result.bytes_sent;
  result = send(batch, info, control, now ? *now : kNone);
  result.bytes_sent += bytes;
  return result;
}

AttemptResult HttpTransport::send(const Batch& batch, const AttemptInfo& info, AttemptControl& control,
                                  const HeaderSet& headers_sent) {
  const Route* route = batch.route.get();
  if (route && !route->error.empty()) return {Outcome::Permanent, route->error, std::nullopt};
  std::variant<std::string_view, AttemptResult> sent = body(batch, info, control);
  if (auto* failed = std::get_if<AttemptResult>(&sent)) return std::move(*failed);
  std::string_view payload = std::get<std::string_view>(sent);
  std::vector<std::string> lines;
  auto add_default = [&](std::string_view name, std::string value) {
    if (!has_header(headers_sent.all, name)) lines.push_back(fmt::format("{}: {}", name, value));
  };
  add_default("Content-Type", batch.format->content_type());  // a header the user gives replaces ours
  if (options_.compress) add_default("Content-Encoding", std::string(options_.compress->encoding()));
  add_default("Idempotency-Key", info.batch_id);
  // No 100-continue round trip before large bodies. With --aws-sigv4 the
  // empty "Expect:" would be signed though not sent (libcurl 7.88 signs every
  // header given), so libcurl's own Expect goes, unsigned, not waited on.
  if (options_.aws.param.empty()) lines.emplace_back("Expect:");
  if (!options_.aws.token.empty()) lines.push_back("x-amz-security-token: " + options_.aws.token);
  TemplateValues fields{info.batch_id, info.batch, info.attempt};
  if (route && route->routed_headers) {  // rendered from the records' fields, batch fields as marks
    for (const std::string& h : route->headers) lines.push_back(expand_marks(h, fields));
    for (const std::string& h : headers_sent.from_files) lines.push_back(expand_template(h, fields));  // never routed
  } else {
    for (const std::string& h : headers_sent.all) lines.push_back(expand_template(h, fields));
  }
  std::string url = route && !route->url.empty() ? expand_marks(route->url, fields) : expand_template(options_.url, fields);
  curl_slist* headers = nullptr;
  for (const auto& l : lines) {
    curl_slist* more = curl_slist_append(headers, l.c_str());
    if (!more) {  // out of memory: a request without, say, its Authorization must not go
      curl_slist_free_all(headers);
      return {Outcome::Retryable, "cannot build the request headers: out of memory", std::nullopt, payload.size()};
    }
    headers = more;
  }

  response_.clear();
  response_cut_ = false;
  error_[0] = '\0';
  curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, payload.data());
  curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  curl_multi_add_handle(multi_, easy_);

  std::optional<AttemptResult> cut;
  int running = 1;
  while (running) {
    curl_multi_perform(multi_, &running);
    if (!running) break;
    if (control.cancelled()) {
      cut = AttemptResult{Outcome::Cancelled, "request stopped: batchpipe is shutting down", std::nullopt};
      break;
    }
    auto deadline = control.deadline();
    if (deadline && Clock::now() >= *deadline) {
      cut = AttemptResult{Outcome::Retryable, fmt::format("request to {} {}", endpoint_, control.deadline_reason()),
                          std::nullopt};
      break;
    }
    curl_waitfd wake{control.wake_fd(), CURL_WAIT_POLLIN, 0};
    int timeout = poll_timeout(deadline);
    curl_multi_poll(multi_, &wake, 1, timeout < 0 ? 1000 : std::min(timeout, 1000), nullptr);
    if (wake.revents) control.check();
  }

  CURLcode code = CURLE_OK;
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &left))
    if (msg->msg == CURLMSG_DONE) code = msg->data.result;
  long status = 0;
  curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
  std::string location;
  char* redirect = nullptr;
  if (status >= 300 && status < 400 && curl_easy_getinfo(easy_, CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK &&
      redirect != nullptr)
    location = redirect;
  std::optional<Duration> retry_after;
  curl_header* h = nullptr;
  if (!cut && honours_retry_after(status) &&
      curl_easy_header(easy_, "Retry-After", 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
    retry_after = parse_retry_after(h->value, std::chrono::system_clock::now());
  curl_multi_remove_handle(multi_, easy_);
  curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);

  held_ = compressed_.capacity() + response_.capacity();
  AttemptResult result;
  result.bytes_sent = payload.size();
  if (cut) {
    cut->bytes_sent = payload.size();
    cut->receiver_down = cut->outcome == Outcome::Retryable;
    return std::move(*cut);
  }
  if (code != CURLE_OK) {
    result.outcome = classify_transfer_error(code);
    result.receiver_down = result.outcome == Outcome::Retryable;
    std::tie(result.shared, result.fix) = shared_cause(code, error_);
    result.detail = fmt::format("{} ({})", error_[0] ? error_ : curl_easy_strerror(code), endpoint_);
    if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE)
      result.detail += "; if a private CA signed the server's certificate, pass that CA's certificate with --cacert FILE";
    return result;
  }
  result.outcome = classify_status(status);
  result.status = static_cast<int>(status);
  std::tie(result.shared, result.fix) = shared_cause(status);
  result.receiver_down = status >= 500 && result.outcome == Outcome::Retryable;
  Ruling ruling;
  if (result.outcome != Outcome::Delivered) ruling = options_.rules.decide(result.status, response_);
  if (ruling.outcome) {  // the user's word replaces ours, the fail-fast rule's included
    result.outcome = *ruling.outcome;
    result.shared = Shared::No;
  }
  if (!ruling.rule.empty()) result.shared = Shared::No;  // a reply rule matched: this batch's own problem
  result.bisect = ruling.bisect;
  // A 5xx a rule gives up or splits is about the records, not the receiver's health.
  result.receiver_down = result.receiver_down && result.outcome == Outcome::Retryable && !result.bisect;
  result.detail = fmt::format("HTTP {} from {}", status, endpoint_);
  if (!location.empty()) result.detail += redirect_note(options_.url, location);
  // ClickHouse's 500, say, says what went wrong in its body: worth quoting on every failure.
  if (result.outcome != Outcome::Delivered && !response_.empty() && location.empty()) {
    std::vector<std::string> secrets = options_.secrets;  // and those of the header files as sent
    secrets.insert(secrets.end(), headers_sent.secrets.begin(), headers_sent.secrets.end());
    result.detail += fmt::format(": \"{}\"", quote_reply(response_, secrets));
  }
  if (!ruling.rule.empty()) result.detail += fmt::format(" ({})", ruling.rule);
  result.retry_after = retry_after;
  if (result.outcome == Outcome::Delivered && options_.reply_limit) {
    if (response_cut_) {
      result.outcome = Outcome::Permanent;
      result.detail = fmt::format("the answer from {} is larger than --max-buffer ({} bytes): raise --max-buffer or "
                                  "lower --size", endpoint_, options_.reply_limit);
    } else {
      result.reply = std::move(response_);
    }
  }
  return result;
}

}  // namespace batchpipe
