#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "cli/url_check.h"

using namespace batchpipe;

namespace {

std::string error_of(std::string_view url) { return check_post_url(url).error; }

}  // namespace

TEST_CASE("check_post_url takes http and https URLs", "[cli]") {
  for (auto url : {"http://localhost:8080", "http://127.0.0.1:8080/api", "https://ingest.example/api?x=1",
                   "HTTP://h/", "http://[::1]:8080/", "https://h:65535/"}) {
    UrlCheck c = check_post_url(url);
    CHECK(c.error == "");
    CHECK(c.warnings.empty());
  }
  CHECK(check_post_url("https://h/").https);
  CHECK_FALSE(check_post_url("http://h/").https);
}

TEST_CASE("check_post_url says what is wrong and how to fix it", "[cli]") {
  CHECK(error_of("localhost:8080") == "--post localhost:8080: add a scheme, e.g. http://localhost:8080");
  CHECK(error_of("ingest.example/api") == "--post ingest.example/api: add a scheme, e.g. http://ingest.example/api");
  CHECK(error_of("") == "--post: the URL is empty");
  CHECK_THAT(error_of("http://"), Catch::Contains("missing host"));
  CHECK_THAT(error_of("http:///x"), Catch::Contains("missing host"));
  CHECK_THAT(error_of("http://:8080/"), Catch::Contains("missing host"));
  CHECK_THAT(error_of("http://h:99999/"), Catch::Contains("bad port '99999'"));
  CHECK_THAT(error_of("http://127.0.0.1:0/"), Catch::Contains("bad port '0'"));
  CHECK_THAT(error_of("http://h:80x/"), Catch::Contains("bad port"));
  // An empty port would be the scheme's default to libcurl: refused, as a bad port is.
  CHECK(error_of("http://127.0.0.1:/") ==
        "--post http://127.0.0.1:/: bad port: nothing after ':'; give a number from 1 to 65535 or drop the ':'");
  CHECK_THAT(error_of("http://[::1]:/"), Catch::Contains("bad port: nothing after ':'"));
  CHECK_THAT(error_of("https://h:"), Catch::Contains("bad port: nothing after ':'"));
  CHECK_THAT(error_of("ftp://h/"), Catch::Contains("ftp:// is not supported"));
  CHECK_THAT(error_of("http:/h"), Catch::Contains("expected http://HOST"));
  CHECK(error_of("127.0.0.1:8080") == "--post 127.0.0.1:8080: add a scheme, e.g. http://127.0.0.1:8080");
  CHECK(error_of("[::1]:8080/x") == "--post [::1]:8080/x: add a scheme, e.g. http://[::1]:8080/x");
  CHECK(error_of("ann:pw@h:80/") == "--post ***@h:80/: add a scheme, e.g. http://***@h:80/");
  // A misspelt scheme is not a host to put http:// in front of.
  for (const char* url : {"http//host", "http//host/x", "HTTPS//host", "http:host", "https:/h", "http:8080",
                          "h//x", "a b", "h:", "h:port/"})
    CHECK(error_of(url) ==
          fmt::format("--post {}: malformed URL; expected http://HOST[:PORT][/PATH] or https://...", url));
  CHECK_THAT(error_of("http://[::1/"), Catch::Contains("bad host"));
  CHECK_THAT(error_of("http://h h/"), Catch::Contains("not a usable URL"));
}

TEST_CASE("check_post_url warns about credentials in the URL", "[cli]") {
  UrlCheck c = check_post_url("https://ann:sekret@ingest.example/api");
  CHECK(c.error == "");
  REQUIRE(c.warnings.size() == 1);
  CHECK_THAT(c.warnings[0], Catch::Contains("user:password") && Catch::Contains("ps") && Catch::Contains("-H @FILE") &&
                                Catch::Contains("Authorization"));
  CHECK(c.warnings[0].find("sekret") == std::string::npos);
  CHECK_THAT(check_post_url("http://ann@h/").warnings.at(0), Catch::Contains("user name"));
}

TEST_CASE("check_post_url never repeats a password", "[cli]") {
  CHECK(error_of("https://ann:sekret@h:0/") == "--post https://***@h:0/: bad port '0'; expected a number from 1 to 65535");
  CHECK(error_of("ann:sekret@h") == "--post ***@h: add a scheme, e.g. http://***@h");
}
