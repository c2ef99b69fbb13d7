#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "batch/field_template.h"
#include "batch/route.h"
#include "json/record_fields.h"

using namespace batchpipe;

namespace {

/// Renders `text` for `place` with the fields of the JSON `record`; the
/// rendered text, or "ERROR: " and the reason.
std::string render(std::string_view text, TextPlace place, std::string_view record, std::time_t now = 0) {
  std::string error;
  auto t = FieldTemplate::parse(text, place, error);
  if (!t) return "PARSE: " + error;
  RecordFields fields;
  fields.reset(record);
  std::string out;
  if (!t->render(fields, now, out, error)) return "ERROR: " + error;
  return out;
}

RouteTemplates templates(std::string url, std::vector<std::string> headers = {}, std::string format = "array",
                         std::string bulk_action = "") {
  RouteTemplates t;
  t.url = std::move(url);
  t.headers = std::move(headers);
  t.format = std::move(format);
  t.bulk_action = std::move(bulk_action);
  return t;
}

std::string parse_error(std::string_view text) {
  std::string error;
  auto t = FieldTemplate::parse(text, TextPlace::Header, error);
  return t ? "" : error;
}

}  // namespace

TEST_CASE("a string field is used without its quotes, a number or boolean as written") {
  CHECK(render("logs-{.service}", TextPlace::Header, R"({"service":"api"})") == "logs-api");
  CHECK(render("{.n}/{.f}/{.b}", TextPlace::Header, R"({"n":12,"f":-1.50e3,"b":true})") == "12/-1.50e3/true");
  CHECK(render("{.a.b.c}", TextPlace::Header, R"({"a":{"x":1,"b":{"c":"deep"}}})") == "deep");
  CHECK(render("{.k}", TextPlace::Header, R"({"k":"tab\there"})") == "tab\there");
  CHECK(render("no fields {here}", TextPlace::Header, "{}") == "no fields {here}");
}

TEST_CASE("a missing or null field fails the record unless it has a default") {
  CHECK(render("{.service}", TextPlace::Header, R"({"other":1})").starts_with("ERROR: .service is missing"));
  CHECK(render("{.service}", TextPlace::Header, R"({"service":null})").starts_with("ERROR: .service is missing"));
  CHECK(render("{.service:-unknown}", TextPlace::Header, R"({"other":1})") == "unknown");
  CHECK(render("{.service:-unknown}", TextPlace::Header, R"({"service":null})") == "unknown");
  CHECK(render("{.service:-}", TextPlace::Header, R"({})") == "");
  CHECK(render("{.a.b:-d}", TextPlace::Header, R"({"a":"not an object"})") == "d");
  CHECK(render("{.x:-d}", TextPlace::Header, R"([1,2])") == "d");
  CHECK(render("{.x:-d}", TextPlace::Header, R"("text")") == "d");
}

TEST_CASE("an object or an array fails the record") {
  CHECK(render("{.a}", TextPlace::Header, R"({"a":{"b":1}})").starts_with("ERROR: .a is an object or an array"));
  CHECK(render("{.a:-d}", TextPlace::Header, R"({"a":[1]})").starts_with("ERROR: .a is an object or an array"));
}

TEST_CASE("values in a URL are percent-encoded") {
  CHECK(render("http://h/{.v}?q={.v}", TextPlace::UrlPath, R"({"v":"a/b?c#d e%f"})") ==
        "http://h/a%2Fb%3Fc%23d%20e%25f?q=a%2Fb%3Fc%23d%20e%25f");
  CHECK(render("/{.v}", TextPlace::UrlPath, R"({"v":"caf\u00e9 ü"})") == "/caf%C3%A9%20%C3%BC");
  CHECK(render("/{.v}", TextPlace::UrlPath, R"({"v":"A-z_0.9~"})") == "/A-z_0.9~");
  CHECK(render("/{.v}", TextPlace::UrlPath, R"({"v":"{batch_id}\r\n"})") == "/%7Bbatch_id%7D%0D%0A");
  CHECK(render("/{.v:-a b}", TextPlace::UrlPath, R"({})") == "/a%20b");
}

TEST_CASE("a header value with CR, LF or another control byte fails the record") {
  CHECK(render("{.v}", TextPlace::Header, R"({"v":"x\r\nX-Evil: 1"})") ==
        "ERROR: the value of .v holds a carriage return (CR), which cannot go in a header");
  CHECK(render("{.v}", TextPlace::Header, R"({"v":"x\nX-Evil: 1"})") ==
        "ERROR: the value of .v holds a line feed (LF), which cannot go in a header");
  CHECK(render("{.v}", TextPlace::Header, R"({"v":"x\u0000y"})") ==
        "ERROR: the value of .v holds a NUL byte, which cannot go in a header");
  CHECK(render("{.v}", TextPlace::Header, R"({"v":"\u0001i"})").starts_with("ERROR: the value of .v holds the control byte 0x01"));
  CHECK(render("{.v}", TextPlace::Env, R"({"v":"two\nlines"})") == "two\nlines");
  CHECK(render("{.v}", TextPlace::Env, R"({"v":"a\u0000b"})").starts_with("ERROR: the value of .v holds a NUL byte"));
}

TEST_CASE("values inside JSON are escaped, braces too") {
  CHECK(render(R"({"index":{"_index":"logs-{.s}"}})", TextPlace::Json, R"({"s":"a\"b\\c\nd"})") ==
        R"({"index":{"_index":"logs-a\"b\\c\nd"}})");
  CHECK(render(R"({"_id":"{.s}"})", TextPlace::Json, R"({"s":"{record_id}"})") == R"({"_id":"\u007brecord_id\u007d"})");
  CHECK(render(R"("{.s}")", TextPlace::Json, R"({"s":"\u0001"})") == R"("\u0001")");
}

TEST_CASE("timestamps: RFC 3339 text, epoch seconds or milliseconds, formatted in UTC") {
  CHECK(render("{.ts:%Y.%m.%d}", TextPlace::Header, R"({"ts":"2024-05-01T23:30:00Z"})") == "2024.05.01");
  CHECK(render("{.ts:%Y.%m.%d %H}", TextPlace::Header, R"({"ts":"2024-05-01T23:30:00-02:00"})") == "2024.05.02 01");
  CHECK(render("{.ts:%Y.%m.%d %H}", TextPlace::Header, R"({"ts":"2024-05-01T01:30:00.123+02:00"})") ==
        "2024.04.30 23");
  CHECK(render("{.ts:%Y.%m.%d}", TextPlace::Header, R"({"ts":"2024-05-01"})") == "2024.05.01");
  CHECK(render("{.ts:%Y.%m.%d}", TextPlace::Header, R"({"ts":"2024-05-01 10:00:00"})") == "2024.05.01");
  CHECK(render("{.ts:%Y-%m-%dT%H:%M:%S}", TextPlace::Header, R"({"ts":1714606200})") == "2024-05-01T23:30:00");
  CHECK(render("{.ts:%Y-%m-%dT%H:%M:%S}", TextPlace::Header, R"({"ts":1714606200123})") == "2024-05-01T23:30:00");
  CHECK(render("{.ts:%Y-%m-%dT%H:%M:%S}", TextPlace::Header, R"({"ts":1714606200.9})") == "2024-05-01T23:30:00");
  CHECK(render("{.ts:%Y}", TextPlace::Header, R"({"ts":"yesterday"})").starts_with("ERROR: .ts is not a timestamp"));
  CHECK(render("{.ts:%Y}", TextPlace::Header, R"({"ts":"2024-13-01T00:00:00Z"})").starts_with("ERROR"));
  CHECK(render("{.ts:%Y}", TextPlace::Header, R"({"ts":true})").starts_with("ERROR: .ts is not a timestamp"));
  CHECK(render("{.ts:%Y}", TextPlace::Header, R"({})").starts_with("ERROR: .ts is missing"));
}

TEST_CASE("{now:FORMAT} is the time given, in UTC") {
  CHECK(render("logs-{now:%Y.%m.%d}", TextPlace::Header, "{}", 1714606200) == "logs-2024.05.01");
  CHECK(render("{now}", TextPlace::Header, "{}", 0) == "1970-01-01T00:00:00Z");
}

TEST_CASE("batch fields stay as marks that expand_marks fills in") {
  std::string out = render("/b/{batch_id}/{.s}/{attempt}/{batch}", TextPlace::UrlPath, R"({"s":"x"})");
  CHECK(expand_marks(out, {"ID", 7, 2}) == "/b/ID/x/2/7");
}

TEST_CASE("templates that cannot be parsed say what to fix") {
  CHECK(parse_error("{.a..b}").find("a field name after each dot") != std::string::npos);
  CHECK(parse_error("{.a").find("closing brace") != std::string::npos);
  CHECK(parse_error("{.a:}").find(":-DEFAULT or :FORMAT") != std::string::npos);
  CHECK(parse_error("{now:}").find("strftime format") != std::string::npos);
  CHECK(parse_error("{\"json\":1}").empty());
  CHECK_FALSE(FieldTemplate::has_record_fields("http://h/{batch_id}"));
  CHECK(FieldTemplate::has_record_fields("http://h/{.x}"));
  CHECK(FieldTemplate::has_record_fields("http://h/{now:%Y}"));
}

TEST_CASE("the router keys records by their rendered templates") {
  std::string error;
  auto router = Router::make(
      templates("http://h/{.s}/_bulk", {"X-T: {.t:-none}"}, "bulk", R"({"index":{"_index":"i-{.s}"}})"), error);
  REQUIRE(router);
  CHECK(router->routes());
  RecordFields fields;
  std::string a, b, c, why;
  fields.reset(R"({"s":"x","t":"1"})");
  router->render(fields, 0, a, why);
  CHECK(why.empty());
  fields.reset(R"({"t":"1","s":"x","other":[1]})");
  router->render(fields, 0, b, why);
  CHECK(a == b);
  fields.reset(R"({"s":"y"})");
  router->render(fields, 0, c, why);
  CHECK(a != c);
  auto route = router->make_route(c, why);
  CHECK(route->error.empty());
  CHECK(route->url == "http://h/y/_bulk");
  CHECK(route->headers == std::vector<std::string>{"X-T: none"});
  CHECK_FALSE(route->format);  // the action line is each record's own, not the key's
  CHECK(router->per_record_action());

  fields.reset(R"({"s":"z","t":"a\r\nb"})");
  router->render(fields, 0, c, why);
  CHECK(why == "the value of .t holds a carriage return (CR), which cannot go in a header");
  CHECK(router->make_route(c, why)->error == why);
}

TEST_CASE("the router refuses record fields in a URL's host and a header's name") {
  std::string error;
  CHECK_FALSE(Router::make(templates("http://{.host}/x"), error));
  CHECK(error.find("path or query") != std::string::npos);
  CHECK_FALSE(Router::make(templates("http://h/", {"X-{.n}: v"}), error));
  CHECK(error.find("not its name") != std::string::npos);
  auto plain = Router::make(templates("http://h/{batch_id}", {"A: b"}), error);
  REQUIRE(plain);
  CHECK_FALSE(plain->routes());
}

TEST_CASE("a --bulk-action with record fields is rendered per record and is no part of the key") {
  std::string error;
  auto router =
      Router::make(templates("http://h/_bulk", {}, "bulk", R"({"index":{"_index":"logs-{.s}-{.ts:%Y.%m.%d}"}})"), error);
  REQUIRE(router);
  CHECK_FALSE(router->routes());
  CHECK(router->per_record_action());
  RecordFields fields;
  std::string line, why;
  fields.reset(R"({"s":"a\"b{c}","ts":"2024-05-01T10:00:00Z"})");
  REQUIRE(router->render_action(fields, 0, line, why));
  CHECK(line == R"({"index":{"_index":"logs-a\"b\u007bc\u007d-2024.05.01"}})");
  fields.reset(R"({"ts":1})");
  CHECK_FALSE(router->render_action(fields, 0, line, why));
  CHECK(why == "--bulk-action: .s is missing or null (give a default: {.s:-DEFAULT})");
  fields.reset(R"({"s":[1],"ts":1})");
  CHECK_FALSE(router->render_action(fields, 0, line, why));
  CHECK(why.find("an object or an array") != std::string::npos);

  // A constant action is the run's, whatever the key (its {batch_id} stays as
  // it is, as without fields); batch fields are not filled in a per-record line.
  auto constant = Router::make(templates("http://h/{.s}", {}, "bulk", R"({"create":{"_id":"{batch_id}"}})"), error);
  REQUIRE(constant);
  CHECK_FALSE(constant->per_record_action());
  RecordFields s;
  s.reset(R"({"s":"a"})");
  std::string key;
  constant->render(s, 0, key, why);
  CHECK(why.empty());
  CHECK_FALSE(constant->make_route(key, why)->format);
  CHECK_FALSE(Router::make(templates("http://h/", {}, "bulk", R"({"index":{"_id":"{batch_id}-{.n}"}})"), error));
  CHECK(error.find("{batch_id} is not filled in") != std::string::npos);
}
