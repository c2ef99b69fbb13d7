// --aws-sigv4: what libcurl signs requests with (CURLOPT_AWS_SIGV4), the
// keys taken from the environment at start-up.
#pragma once

#include <string>

namespace batchpipe {

/// --aws-sigv4: libcurl signs each request (AWS Signature V4) with these.
struct AwsSigning {
  std::string param;       ///< PROVIDER1[:PROVIDER2[:REGION[:SERVICE]]], as CURLOPT_AWS_SIGV4 takes it; empty = off
  std::string access_key;  ///< AWS_ACCESS_KEY_ID
  std::string secret_key;  ///< AWS_SECRET_ACCESS_KEY
  std::string token;       ///< AWS_SESSION_TOKEN, sent as x-amz-security-token (signed); empty = none
};

}  // namespace batchpipe
