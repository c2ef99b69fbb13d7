#include <catch2/catch.hpp>

#include "sinks/reply_quote.h"

using namespace batchpipe;

TEST_CASE("secret headers by name, in any case") {
  for (const char* name : {"Authorization", "authorization", "COOKIE", "Proxy-Authorization"})
    CHECK(is_secret_header(name));
  for (const char* name : {"Content-Type", "X-Authorization-Hint", "Cookies", "Auth", ""})
    CHECK_FALSE(is_secret_header(name));
}

TEST_CASE("the pieces of a secret value") {
  CHECK(secret_pieces(" Bearer topsecret ") == std::vector<std::string>{"Bearer topsecret", "topsecret"});
  CHECK(secret_pieces("c=topsecret2; session=abc123") ==
        std::vector<std::string>{"c=topsecret2; session=abc123", "session=abc123", "topsecret2", "abc123"});
  CHECK(secret_pieces("k") == std::vector<std::string>{});  // too short to redact
  CHECK(secret_pieces("plaintoken") == std::vector<std::string>{"plaintoken"});
}

TEST_CASE("a quoted reply shows no secret") {
  std::vector<std::string> secrets = secret_pieces("Bearer topsecret");
  CHECK(quote_reply("echo: Authorization: Bearer topsecret\r\nCode: 500", secrets) ==
        "echo: Authorization: [redacted]..Code: 500");
  CHECK(quote_reply("{\"token\":\"topsecret\",\"again\":\"topsecret\"}", secrets) ==
        "{\"token\":\"[redacted]\",\"again\":\"[redacted]\"}");
  CHECK(quote_reply("nothing to hide", secrets) == "nothing to hide");
  CHECK(quote_reply("", secrets) == "");
}

TEST_CASE("a quoted reply is cut after the limit, never in a secret") {
  std::vector<std::string> secrets{"0123456789SECRET"};
  std::string body = std::string(195, 'x') + "0123456789SECRET" + "tail";
  std::string quoted = quote_reply(body, secrets, 200);
  CHECK(quoted == std::string(195, 'x') + "[reda...");
  CHECK(quoted.find("0123") == std::string::npos);
  CHECK(quote_reply(std::string(300, 'y'), {}, 200) == std::string(200, 'y') + "...");
  CHECK(quote_reply(std::string(200, 'y'), {}, 200) == std::string(200, 'y'));
}

TEST_CASE("control bytes and non-ASCII are shown as dots") {
  CHECK(quote_reply("a\tb\nc\x7f\xc3\xa9", {}) == "a.b.c...");
}

TEST_CASE("a URL's password and its Basic credentials are secrets") {
  CHECK(userinfo_secrets("user", "sekret") == std::vector<std::string>{"dXNlcjpzZWtyZXQ=", "sekret"});
  CHECK(userinfo_secrets("a", "bcd") == std::vector<std::string>{"YTpiY2Q=", "bcd"});
  CHECK(userinfo_secrets("ab", "cdef") == std::vector<std::string>{"YWI6Y2RlZg==", "cdef"});
  CHECK(userinfo_secrets("user", "") == std::vector<std::string>{});
}
