#include <catch2/catch.hpp>

#include "sinks/http_status.h"

using namespace batchpipe;
using namespace std::chrono_literals;

TEST_CASE("HTTP statuses: 2xx delivered, a few retryable, the rest permanent") {
  for (long s : {200L, 201L, 202L, 204L, 299L}) CHECK(classify_status(s) == Outcome::Delivered);
  for (long s : {408L, 429L, 500L, 502L, 503L, 504L}) CHECK(classify_status(s) == Outcome::Retryable);
  for (long s : {100L, 301L, 302L, 303L, 307L, 308L, 400L, 401L, 403L, 404L, 409L, 413L, 422L, 501L, 505L, 599L})
    CHECK(classify_status(s) == Outcome::Permanent);
}

TEST_CASE("transfer errors") {
  for (CURLcode c : {CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_OPERATION_TIMEDOUT, CURLE_RECV_ERROR,
                     CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_SSL_CONNECT_ERROR})
    CHECK(classify_transfer_error(c) == Outcome::Retryable);
  // Malformed replies: not HTTP at all (HTTP/0.9 to libcurl), cut short, garbled.
  for (CURLcode c : {CURLE_UNSUPPORTED_PROTOCOL, CURLE_PARTIAL_FILE, CURLE_WEIRD_SERVER_REPLY})
    CHECK(classify_transfer_error(c) == Outcome::Retryable);
  for (CURLcode c : {CURLE_URL_MALFORMAT, CURLE_PEER_FAILED_VERIFICATION,
                     CURLE_SSL_CACERT_BADFILE})
    CHECK(classify_transfer_error(c) == Outcome::Permanent);
}

TEST_CASE("Retry-After only counts on 429 and 503") {
  CHECK(honours_retry_after(429));
  CHECK(honours_retry_after(503));
  CHECK_FALSE(honours_retry_after(500));
  CHECK_FALSE(honours_retry_after(200));
}

TEST_CASE("Retry-After as delay-seconds") {
  auto now = std::chrono::system_clock::now();
  CHECK(parse_retry_after("120", now) == Duration(120s));
  CHECK(parse_retry_after(" 0 ", now) == Duration(0s));
  CHECK(parse_retry_after("99999999999999999999999", now) >= Duration(1000h));
  for (const char* bad : {"", "-5", "1.5", "soon", "12s", "0x10"}) CHECK_FALSE(parse_retry_after(bad, now));
}

TEST_CASE("Retry-After as an HTTP-date") {
  auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now) == Duration(30s));
  CHECK(parse_retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", now) == Duration(60s));  // RFC 850
  CHECK(parse_retry_after("Wed Oct 21 07:28:05 2015", now) == Duration(5s));          // asctime
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now) == Duration(0s));     // the past
  CHECK_FALSE(parse_retry_after("Wed, 99 Foo 2015 07:28:30 GMT", now));
}

TEST_CASE("Retry-After far in the future is clamped, not overflowed") {
  auto now = std::chrono::system_clock::from_time_t(1445412480);  // 2015
  Duration clamp = std::chrono::seconds(UINT32_MAX);
  for (const char* far : {"Fri, 01 Jan 2300 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT",
                          "Sat, 12 Apr 2262 00:00:00 GMT"}) {
    auto d = parse_retry_after(far, now);
    REQUIRE(d);
    CHECK(*d == clamp);
  }
  // Just under the clamp is taken as sent.
  auto near = parse_retry_after("Thu, 21 Oct 2100 07:28:00 GMT", now);
  REQUIRE(near);
  CHECK(*near > Duration(std::chrono::hours(24 * 365 * 84)));
  CHECK(*near < clamp);
  CHECK(parse_retry_after("99999999999999999999999", now) == clamp);
}

TEST_CASE("https:// to a plain-HTTP port is a mistake every batch shares, until something was delivered") {
  auto [shared, fix] = shared_cause(CURLE_SSL_CONNECT_ERROR,
                                    "OpenSSL/3.0.11: error:0A00010B:SSL routines::wrong version number");
  CHECK(shared == Shared::UntilDelivered);
  CHECK(fix.find("http://") != std::string::npos);
  // Other handshake failures (a reset mid-handshake) are this attempt's own.
  CHECK(shared_cause(CURLE_SSL_CONNECT_ERROR, "OpenSSL SSL_connect: Connection reset by peer").first == Shared::No);
  CHECK(shared_cause(CURLE_SSL_CONNECT_ERROR).first == Shared::No);
  CHECK(classify_transfer_error(CURLE_SSL_CONNECT_ERROR) == Outcome::Retryable);
}

TEST_CASE("client certificates: a pair that cannot be used stops a run at its start, is retried later") {
  auto [shared, fix] = shared_cause(CURLE_SSL_CERTPROBLEM, "unable to set private key file: 'cur.key' type PEM");
  CHECK(shared == Shared::UntilDelivered);
  CHECK(fix.find("--key") != std::string::npos);
  CHECK(classify_transfer_error(CURLE_SSL_CERTPROBLEM) == Outcome::Retryable);
  auto wanted = shared_cause(CURLE_RECV_ERROR, "OpenSSL SSL_read: error:0A00045C:SSL routines::tlsv13 alert "
                                               "certificate required, errno 0");
  CHECK(wanted.first == Shared::UntilDelivered);
  CHECK(wanted.second.find("--cert") != std::string::npos);
  CHECK(shared_cause(CURLE_SSL_CONNECT_ERROR, "error:0A000418:SSL routines::tlsv1 alert unknown ca").first ==
        Shared::UntilDelivered);
}
