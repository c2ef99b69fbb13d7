#include "json/bulk_reply.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include <fmt/format.h>

using namespace batchpipe;

namespace {

BulkReply require_reply(std::string_view body, size_t items_sent) {
  INFO("body: " << std::string(body.substr(0, 400)));
  auto result = read_bulk_reply(body, items_sent);
  if (auto* error = std::get_if<std::string>(&result)) FAIL("unexpected error: " << *error);
  return std::get<BulkReply>(std::move(result));
}

std::string require_error(std::string_view body, size_t items_sent) {
  INFO("body: " << std::string(body.substr(0, 400)));
  auto result = read_bulk_reply(body, items_sent);
  REQUIRE(std::holds_alternative<std::string>(result));
  return std::get<std::string>(result);
}

/// A reply with "errors":true whose items are the given JSON texts.
std::string errors_reply(std::initializer_list<std::string_view> items) {
  std::string body = R"({"took":3,"errors":true,"items":[)";
  bool first = true;
  for (std::string_view item : items) {
    if (!first) body += ',';
    first = false;
    body += item;
  }
  return body + "]}";
}

}  // namespace

TEST_CASE("errors:false stores every item", "[bulk_reply]") {
  BulkReply reply = require_reply(
      R"({"took":30,"errors":false,"items":[)"
      R"({"index":{"_index":"logs","_id":"1","_version":1,"result":"created","status":201}},)"
      R"({"index":{"_index":"logs","_id":"2","_version":1,"result":"created","status":201}}]})",
      2);
  REQUIRE(reply.items.size() == 2);
  for (const ItemVerdict& item : reply.items) {
    CHECK(item.fate == ItemFate::Stored);
    CHECK(item.reason.empty());
  }
  CHECK(reply.stored == 2);
  CHECK(reply.already + reply.retry + reply.rejected == 0);
}

TEST_CASE("errors:false without items (filter_path=errors) stores every record sent", "[bulk_reply]") {
  BulkReply reply = require_reply(R"({"errors":false})", 5);
  CHECK(reply.items.size() == 5);
  CHECK(reply.stored == 5);
  CHECK(reply.items[4].fate == ItemFate::Stored);

  reply = require_reply(" \n{ \"errors\" : false }\r\n", 0);
  CHECK(reply.items.empty());
  CHECK(reply.stored == 0);
}

TEST_CASE("errors:false still needs one item per record when items are there", "[bulk_reply]") {
  CHECK(require_error(R"({"errors":false,"items":[{"index":{"status":201}}]})", 2) ==
        "1 item for 2 records sent");
  CHECK(require_error(R"({"errors":false,"items":[]})", 1) == "0 items for 1 record sent");
  CHECK(require_reply(R"({"errors":false,"items":[]})", 0).items.empty());
}

TEST_CASE("each item's status decides its fate", "[bulk_reply]") {
  std::string body = errors_reply({
      R"({"create":{"_index":"logs","_id":"a","status":201,"result":"created"}})",
      R"({"index":{"_index":"logs","_id":"b","status":200,"result":"updated"}})",
      R"({"index":{"_index":"logs","_id":"c","status":400,"error":{"type":"mapper_parsing_exception",)"
      R"("reason":"failed to parse field [n] of type [long]"}}})",
      R"({"create":{"_index":"logs","_id":"d","status":409,"error":{"type":"version_conflict_engine_exception",)"
      R"j("reason":"[d]: version conflict, document already exists (current version [1])"}}})j",
      R"({"index":{"_index":"logs","_id":"e","status":409,"error":{"type":"version_conflict_engine_exception",)"
      R"("reason":"[e]: version conflict"}}})",
      R"({"index":{"_index":"logs","_id":"f","status":429,"error":{"type":"es_rejected_execution_exception",)"
      R"("reason":"rejected execution of coordinating operation"}}})",
      R"({"index":{"_index":"logs","_id":"g","status":503,"error":{"type":"unavailable_shards_exception",)"
      R"("reason":"primary shard is not active"}}})",
      R"({"delete":{"_index":"logs","_id":"h","status":500,"error":"internal"}})",
      R"({"update":{"_index":"logs","_id":"i","status":404,"error":{"type":"document_missing_exception",)"
      R"("reason":"[i]: document missing"}}})",
      R"({"delete":{"_index":"logs","_id":"j","status":404,"result":"not_found"}})",
      R"({"create":{"_index":"logs","_id":"k","status":201}})",
  });
  BulkReply reply = require_reply(body, 11);
  REQUIRE(reply.items.size() == 11);
  using enum ItemFate;
  const std::vector<ItemFate> fates{Stored, Stored, Rejected, AlreadyPresent, Rejected, Retry,
                                    Retry,  Retry,  Rejected, Rejected,       Stored};
  for (size_t i = 0; i < fates.size(); ++i) {
    INFO("item " << i + 1);
    CHECK(reply.items[i].fate == fates[i]);
  }
  CHECK(reply.stored == 3);
  CHECK(reply.already == 1);
  CHECK(reply.retry == 3);
  CHECK(reply.rejected == 4);

  CHECK(reply.items[0].reason.empty());
  CHECK(reply.items[2].reason == "HTTP 400 mapper_parsing_exception: failed to parse field [n] of type [long]");
  CHECK(reply.items[3].reason.empty());  // already present is no failure
  CHECK(reply.items[4].reason == "HTTP 409 version_conflict_engine_exception: [e]: version conflict");
  CHECK(reply.items[5].reason ==
        "HTTP 429 es_rejected_execution_exception: rejected execution of coordinating operation");
  CHECK(reply.items[6].reason == "HTTP 503 unavailable_shards_exception: primary shard is not active");
  CHECK(reply.items[7].reason == "HTTP 500 internal");
  CHECK(reply.items[8].reason == "HTTP 404 document_missing_exception: [i]: document missing");
  CHECK(reply.items[9].reason == "HTTP 404");
}

TEST_CASE("every 5xx is retried, every other non-2xx rejected", "[bulk_reply]") {
  for (int status : {200, 201, 202, 299}) {
    auto reply = require_reply(errors_reply({fmt::format(R"({{"index":{{"status":{}}}}})", status)}), 1);
    CHECK(reply.items[0].fate == ItemFate::Stored);
  }
  for (int status : {429, 500, 502, 503, 504, 599}) {
    INFO(status);
    auto reply = require_reply(errors_reply({fmt::format(R"({{"index":{{"status":{}}}}})", status)}), 1);
    CHECK(reply.items[0].fate == ItemFate::Retry);
    CHECK(reply.items[0].reason == fmt::format("HTTP {}", status));
  }
  for (int status : {100, 199, 300, 304, 400, 401, 403, 404, 408, 409, 413, 422, 499}) {
    INFO(status);
    auto reply = require_reply(errors_reply({fmt::format(R"({{"index":{{"status":{}}}}})", status)}), 1);
    CHECK(reply.items[0].fate == ItemFate::Rejected);
  }
}

TEST_CASE("409 means already present only for a create item", "[bulk_reply]") {
  auto reply = require_reply(errors_reply({R"({"create":{"status":409}})", R"({"index":{"status":409}})",
                                           R"({"update":{"status":409}})", R"({"delete":{"status":409}})",
                                           R"({"Create":{"status":409}})"}),
                             5);
  CHECK(reply.items[0].fate == ItemFate::AlreadyPresent);
  for (size_t i = 1; i < 5; ++i) CHECK(reply.items[i].fate == ItemFate::Rejected);
  CHECK(reply.already == 1);
  CHECK(reply.rejected == 4);
}

TEST_CASE("the forms an item's error takes", "[bulk_reply]") {
  const auto reason = [](std::string_view error) {
    auto reply = require_reply(errors_reply({fmt::format(R"({{"index":{{"status":400,"error":{}}}}})", error)}), 1);
    return reply.items[0].reason;
  };
  CHECK(reason(R"({"type":"illegal_argument_exception"})") == "HTTP 400 illegal_argument_exception");
  CHECK(reason(R"({"reason":"no type here"})") == "HTTP 400 no type here");
  CHECK(reason(R"({})") == "HTTP 400");
  CHECK(reason(R"({"type":"t","caused_by":{}})") == "HTTP 400 t");
  CHECK(reason(R"({"caused_by":{"reason":"deep"}})") == "HTTP 400 (caused by deep)");
  CHECK(reason(R"(null)") == "HTTP 400");
  CHECK(reason(R"("a plain string")") == "HTTP 400 a plain string");
  CHECK(reason(R"(["odd",1])") == R"(HTTP 400 ["odd",1])");
  CHECK(reason(R"(42)") == "HTTP 400 42");
  // Elasticsearch 8 nests the root cause, which names the offending value.
  CHECK(reason(R"({"type":"document_parsing_exception","reason":"[1:15] failed to parse field [n] of type [long]",)"
               R"("caused_by":{"type":"illegal_argument_exception","reason":"For input string: \"abc\""}})") ==
        "HTTP 400 document_parsing_exception: [1:15] failed to parse field [n] of type [long] "
        "(caused by illegal_argument_exception: For input string: \"abc\")");
  // Escapes are decoded: the reason is text, not JSON.
  CHECK(reason(R"({"type":"t","reason":"caf\u00e9 \"q\" back\\slash"})") == "HTTP 400 t: café \"q\" back\\slash");
  // Fields other than type, reason and caused_by are left out.
  CHECK(reason(R"({"type":"t","reason":"r","index":"logs","shard":"0","index_uuid":"x"})") == "HTTP 400 t: r");
}

TEST_CASE("a reason stays on one line and harmless to a terminal", "[bulk_reply]") {
  auto reply = require_reply(
      errors_reply({R"({"index":{"status":400,"error":{"type":"script_exception",)"
                    R"("reason":"line1\nline2\r\tx\u001b[31mred\u0007\u007f\u009b2J\u0000end é"}}})"}),
      1);
  CHECK(reply.items[0].reason == "HTTP 400 script_exception: line1 line2  x [31mred   2J end é");
}

TEST_CASE("a long reason is cut at 300 bytes, never inside a character", "[bulk_reply]") {
  std::string long_reason(1000, 'x');
  auto reply = require_reply(
      errors_reply({fmt::format(R"({{"index":{{"status":400,"error":{{"type":"t","reason":"{}"}}}}}})", long_reason)}),
      1);
  const std::string& reason = reply.items[0].reason;
  CHECK(reason.size() == kBulkReasonLimit);
  CHECK(reason.starts_with("HTTP 400 t: xxx"));
  CHECK(reason.ends_with("x..."));

  // "HTTP 400 t: " is 12 bytes; 'é' is 2, so the cut at 297 would split one.
  std::string accents;
  for (int i = 0; i < 200; ++i) accents += "é";
  reply = require_reply(
      errors_reply({fmt::format(R"({{"index":{{"status":400,"error":{{"type":"t","reason":"{}"}}}}}})", accents)}), 1);
  const std::string& cut = reply.items[0].reason;
  CHECK(cut.size() == 296 + 3);
  CHECK(cut.ends_with("é..."));

  // Exactly at the limit: nothing cut.
  std::string exact(kBulkReasonLimit - 12, 'y');
  reply = require_reply(
      errors_reply({fmt::format(R"({{"index":{{"status":400,"error":{{"type":"t","reason":"{}"}}}}}})", exact)}), 1);
  CHECK(reply.items[0].reason == "HTTP 400 t: " + exact);
}

TEST_CASE("a reply with a different number of items fails as a whole", "[bulk_reply]") {
  std::string two = errors_reply({R"({"index":{"status":201}})", R"({"index":{"status":400}})"});
  CHECK(require_error(two, 3) == "2 items for 3 records sent");
  CHECK(require_error(two, 1) == "2 items for 1 record sent");
  CHECK(require_error(errors_reply({}), 1) == "0 items for 1 record sent");
  CHECK(require_reply(errors_reply({}), 0).items.empty());
}

TEST_CASE("a body that is not JSON names the fault and its byte", "[bulk_reply]") {
  CHECK(require_error("", 1) == "empty");
  CHECK(require_error(" \r\n\t", 1) == "empty");
  CHECK(require_error("<html><body>502 Bad Gateway</body></html>", 1).starts_with("not JSON: "));
  CHECK(require_error(R"({"errors":false,"items":[})", 1) == "not JSON: expected value or ']' at byte 26");
  CHECK(require_error(R"({"errors":false})"
                      "\n{}",
                      1)
            .starts_with("not JSON: "));
  CHECK(require_error(R"({"errors":false,"items":[]})"
                      " trailing",
                      0)
            .ends_with("at byte 29"));
  CHECK(require_error("{\"errors\":false,\"x\":\"\xff\"}", 0) == "not JSON: invalid UTF-8 at byte 22");
}

TEST_CASE("a reply that is not the object expected", "[bulk_reply]") {
  CHECK(require_error("[]", 0) == "not an object but an array");
  CHECK(require_error("\"ok\"", 0) == "not an object but a string");
  CHECK(require_error("200", 0) == "not an object but a number");
  CHECK(require_error("true", 0) == "not an object but a boolean");
  CHECK(require_error("null", 0) == "not an object but null");

  CHECK(require_error("{}", 0) == "no boolean \"errors\"");
  CHECK(require_error(R"({"errors":"false","items":[]})", 0) == "no boolean \"errors\"");
  CHECK(require_error(R"({"errors":0,"items":[]})", 0) == "no boolean \"errors\"");
  CHECK(require_error(R"({"error":{"type":"x"},"status":400})", 1) == "no boolean \"errors\"");
  CHECK(require_error(R"({"errors":true})", 1) == "\"errors\":true without an \"items\" array");
  CHECK(require_error(R"({"errors":true,"items":{}})", 1) == "\"items\" is an object, not an array");
  CHECK(require_error(R"({"errors":false,"items":null})", 1) == "\"items\" is null, not an array");
}

TEST_CASE("an item not shaped as _bulk items are fails the whole reply", "[bulk_reply]") {
  CHECK(require_error(errors_reply({R"({"index":{}})"}), 1) == "item 1 has no \"status\"");
  CHECK(require_error(errors_reply({R"({"index":{"status":201}})", R"({"index":{"_id":"x"}})"}), 2) ==
        "item 2 has no \"status\"");
  CHECK(require_error(errors_reply({R"({"index":{"status":"400"}})"}), 1) == "item 1 has a string as \"status\"");
  CHECK(require_error(errors_reply({R"({"index":{"status":null}})"}), 1) == "item 1 has null as \"status\"");
  CHECK(require_error(errors_reply({R"({"index":{"status":400.5}})"}), 1) ==
        "item 1 has status 400.5, not an HTTP status");
  CHECK(require_error(errors_reply({R"({"index":{"status":201.0}})"}), 1) ==
        "item 1 has status 201.0, not an HTTP status");
  CHECK(require_error(errors_reply({R"({"index":{"status":0}})"}), 1) == "item 1 has status 0, not an HTTP status");
  CHECK(require_error(errors_reply({R"({"index":{"status":-200}})"}), 1) ==
        "item 1 has status -200, not an HTTP status");
  CHECK(require_error(errors_reply({R"({"index":{"status":600}})"}), 1) ==
        "item 1 has status 600, not an HTTP status");
  CHECK(require_error(errors_reply({R"({"index":{"status":18446744073709551615}})"}), 1) ==
        "item 1 has status 18446744073709551615, not an HTTP status");
  CHECK(require_error(errors_reply({R"({})"}), 1) == "item 1 is not an object with one action key");
  CHECK(require_error(errors_reply({R"({"index":{"status":201},"create":{"status":201}})"}), 1) ==
        "item 1 is not an object with one action key");
  CHECK(require_error(errors_reply({R"([{"index":{"status":201}}])"}), 1) ==
        "item 1 is not an object with one action key");
  CHECK(require_error(errors_reply({R"(201)"}), 1) == "item 1 is not an object with one action key");
  CHECK(require_error(errors_reply({R"({"index":201})"}), 1) == "item 1 has no object under its action key");
}

TEST_CASE("errors:false is trusted whatever the items say", "[bulk_reply]") {
  auto reply = require_reply(R"({"errors":false,"items":[{"index":{"status":400}},1,{}]})", 3);
  CHECK(reply.stored == 3);
  CHECK(reply.rejected == 0);
  reply = require_reply(R"({"items":[{"create":{"status":409}},"x"],"errors":false})", 2);
  CHECK(reply.stored == 2);
}

TEST_CASE("a key given twice makes the reply ambiguous", "[bulk_reply]") {
  CHECK(require_error(R"({"errors":true,"items":[],"errors":false})", 0) == "\"errors\" twice");
  CHECK(require_error(R"({"errors":false,"items":[],"items":[]})", 0) == "\"items\" twice");
}

TEST_CASE("unknown fields and any key order are fine", "[bulk_reply]") {
  auto reply = require_reply(R"({"items":[{"index":{"status":503,"_shards":{"total":2},"_id":"1"}}],)"
                             R"("ingest_took":0,"errors":true,"took":1})",
                             1);
  CHECK(reply.items[0].fate == ItemFate::Retry);
  CHECK(reply.retry == 1);
  // The items come before "errors": a bad item only counts once errors is known true.
  CHECK(require_error(R"({"items":[{"index":{"status":201}},{"index":{}}],"errors":true})", 2) ==
        "item 2 has no \"status\"");
  // Fields of the action other than status and error, in any order, with
  // the error before the status.
  reply = require_reply(errors_reply({R"({"index":{"error":{"reason":"r","type":"t"},"_id":"1","status":400}})",
                                      R"({"create":{"error":"dup","status":409}})"}),
                        2);
  CHECK(reply.items[0].reason == "HTTP 400 t: r");
  CHECK(reply.items[1].fate == ItemFate::AlreadyPresent);
  CHECK(reply.items[1].reason.empty());
}

TEST_CASE("a reply of 100,000 items is read quickly", "[bulk_reply]") {
  constexpr size_t n = 100'000;
  std::string body = R"({"took":1234,"errors":true,"items":[)";
  for (size_t i = 0; i < n; ++i) {
    if (i) body += ',';
    if (i % 10 == 3)
      fmt::format_to(std::back_inserter(body),
                     R"({{"index":{{"_index":"logs","_id":"{}","status":400,"error":{{"type":"mapper_parsing_exception",)"
                     R"("reason":"failed to parse field [n] of type [long] in document with id '{}'"}}}}}})",
                     i, i);
    else if (i % 10 == 7)
      fmt::format_to(std::back_inserter(body), R"({{"index":{{"_index":"logs","_id":"{}","status":429}}}})", i);
    else
      fmt::format_to(std::back_inserter(body),
                     R"({{"index":{{"_index":"logs","_id":"{}","_version":1,"result":"created",)"
                     R"("_shards":{{"total":2,"successful":1,"failed":0}},"_seq_no":{},"_primary_term":1,"status":201}}}})",
                     i, i);
  }
  body += "]}";
  REQUIRE(body.size() > 10'000'000);

  const auto start = std::chrono::steady_clock::now();
  BulkReply reply = require_reply(body, n);
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(reply.stored == n * 8 / 10);
  CHECK(reply.rejected == n / 10);
  CHECK(reply.retry == n / 10);
  CHECK(reply.items[99'993].reason ==
        "HTTP 400 mapper_parsing_exception: failed to parse field [n] of type [long] in document with id '99993'");
  CHECK(reply.items[99'997].fate == ItemFate::Retry);
  // About 0.1 s (up to 5 s with sanitizers on a busy machine); quadratic work
  // would take hours, so the bound is loose enough never to be flaky.
  CHECK(took < std::chrono::seconds(30));
}
