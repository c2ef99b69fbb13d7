// --post: each attempt is one HTTP POST of the batch over a kept-alive
// libcurl connection.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <curl/curl.h>

#include "deliver/failure_rules.h"
#include "deliver/transport.h"
#include "sinks/aws_signing.h"
#include "sinks/codec_pool.h"
#include "sinks/header_source.h"

namespace batchpipe {

struct HttpOptions {
  std::string url;                  ///< http:// or https:// only; may hold template fields
  std::string method = "POST";      ///< --method: POST or PUT
  std::shared_ptr<HeaderSource> headers;  ///< -H and --header @FILE, "Name: value", may hold template fields;
                                         ///< shared by every worker; null = none
  std::shared_ptr<CodecPool> compress;  ///< --compress, shared by the workers; null sends bodies as they are
  Duration connect_timeout = std::chrono::seconds(10);
  std::string cacert;               ///< --cacert FILE; empty = the system's CAs
  bool insecure = false;            ///< --insecure: no TLS verification
  std::string cert;                 ///< --cert FILE: client certificate (PEM); empty = none
  std::string key;                  ///< --key FILE: its private key; empty = in the cert's file
  AwsSigning aws;                   ///< --aws-sigv4
  std::vector<std::string> secrets; ///< redacted wherever a reply is quoted (see reply_quote.h)
  uint64_t reply_limit = 0;         ///< keep a 2xx response body whole, up to this; 0 = only quote it
  FailureRules rules;               ///< --*-status, --bisect-on (HTTP statuses), --*-reply (the body)
};

class HttpTransport : public Transport {
 public:
  /// Checks the URL and sets libcurl up; null with `error` set if it cannot.
  static std::unique_ptr<HttpTransport> create(HttpOptions options, std::string& error);
  ~HttpTransport() override;
  /// "host:port", as messages and metrics name the URL.
  const std::string& endpoint() const { return endpoint_; }

  /// 2xx is delivered; see http_status.h for what is retried. A client
  /// certificate file that changed makes the request go on a new
  /// connection. A 401 or 403
  /// sent with headers a header file has replaced since, or replaces when
  /// read again now, is sent again at once with the new ones. The response
  /// body is read up to 1 MiB (reply_limit, if larger), and kept whole in
  /// the result with reply_limit; its start is quoted in the result of every
  /// failed attempt, with the secrets redacted.
  AttemptResult attempt(const Batch& batch, const AttemptInfo& info, AttemptControl& control) override;
  /// The compressed body and the reply buffer, by capacity.
  uint64_t held_bytes() const override { return held_; }
  /// With --compress, a compressed body as large as the batch at worst.
  uint64_t would_hold(const Batch& batch) const override { return options_.compress ? batch.bytes.size() : 0; }

 private:
  HttpTransport(HttpOptions options, std::string endpoint);
  /// The bytes to send for `batch`: the batch itself, or its compressed form
  /// made once per request id (`info.batch_id`) with a compressor borrowed
  /// from the pool. Nothing, with the attempt's result, if it cannot be
  /// compressed (out of memory) or `control` ends the wait for a compressor.
  std::variant<std::string_view, AttemptResult> body(const Batch& batch, const AttemptInfo& info,
                                                     AttemptControl& control);
  /// One request with the headers `sent`.
  AttemptResult send(const Batch& batch, const AttemptInfo& info, AttemptControl& control, const HeaderSet& sent);
  static size_t on_response(char* data, size_t size, size_t count, void* self);

  HttpOptions options_;
  std::string endpoint_;  ///< "host:port", for messages: never the userinfo
  CURL* easy_ = nullptr;
  CURLM* multi_ = nullptr;
  CodecBuffer compressed_;        ///< the last compressed body, its memory kept for the next
  std::string compressed_for_;    ///< the request id compressed_ holds the body of
  std::string response_;
  bool response_cut_ = false;  ///< the body went past reply_limit
  std::atomic<uint64_t> held_{0};  ///< compressed_ and response_ by capacity, for held_bytes()
  /// --cert and --key as they were when the connection was made: when one
  /// changes, the next request opens a new connection, whose handshake
  /// libcurl makes with the files as they are then.
  FileStamp cert_stamp_, key_stamp_;
  /// Whether the client certificate files changed since the last connection
  /// (and notes them as they are now).
  bool client_certificate_changed();
  char error_[CURL_ERROR_SIZE] = {};  ///< CURLOPT_ERRORBUFFER: libcurl's own words for the last failure
};

}  // namespace batchpipe
