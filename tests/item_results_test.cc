#include <catch2/catch.hpp>

#include "json/item_results.h"

using namespace batchpipe;

namespace {

ItemResultsSpec results(std::string pointer, std::string error) {
  ItemResultsSpec spec;
  spec.results = std::move(pointer);
  spec.error = std::move(error);
  return spec;
}

ItemResultsSpec failures(std::string pointer, std::string error = "") {
  ItemResultsSpec spec;
  spec.failures = std::move(pointer);
  spec.error = std::move(error);
  return spec;
}

std::vector<FailedItem> failed(std::string_view body, const ItemResultsSpec& spec, size_t records) {
  auto r = read_item_results(body, spec, records);
  if (auto* e = std::get_if<std::string>(&r)) FAIL("unexpected error: " << *e);
  return std::get<std::vector<FailedItem>>(r);
}

std::string problem(std::string_view body, const ItemResultsSpec& spec, size_t records) {
  auto r = read_item_results(body, spec, records);
  if (auto* e = std::get_if<std::string>(&r)) return *e;
  return "(no problem)";
}

}  // namespace

TEST_CASE("Firehose PutRecordBatch: the failed results, in order, with their errors", "[items]") {
  auto spec = results("/RequestResponses", "/ErrorCode");
  auto items = failed(R"({"FailedPutCount":2,"Encrypted":false,"RequestResponses":[
      {"RecordId":"a"},
      {"ErrorCode":"ServiceUnavailableException","ErrorMessage":"Slow down."},
      {"RecordId":"c","ErrorCode":null},
      {"ErrorCode":"InvalidArgumentException","ErrorMessage":"bad\nrecord"}]})",
                      spec, 4);
  REQUIRE(items.size() == 2);
  CHECK(items[0].index == 1);
  CHECK(items[0].error == "ServiceUnavailableException");
  CHECK(items[0].reason == R"(item error: {"ErrorCode":"ServiceUnavailableException","ErrorMessage":"Slow down."})");
  CHECK(items[1].index == 3);
  CHECK(items[1].reason == R"(item error: {"ErrorCode":"InvalidArgumentException","ErrorMessage":"bad\nrecord"})");
  CHECK(failed(R"({"RequestResponses":[{"RecordId":"a"}]})", spec, 1).empty());
}

TEST_CASE("an error that is not a string is matched as its JSON", "[items]") {
  auto items = failed(R"([{"ok":1},{"error":{"code":503,"why":"busy"}}])", results("", "/error"), 2);
  REQUIRE(items.size() == 1);
  CHECK(items[0].error == R"({"code":503,"why":"busy"})");
}

TEST_CASE("a results array missing, of another kind or length makes the reply unusable", "[items]") {
  auto spec = results("/Records", "/ErrorCode");
  CHECK(problem(R"({"FailedRecordCount":0})", spec, 2) == "no array at /Records");
  CHECK(problem(R"({"Records":{}})", spec, 2) == "an object at /Records, not an array");
  CHECK(problem(R"({"Records":[{}]})", spec, 2) == "1 result for 2 records sent");
  CHECK(problem(R"({"Records":[{},{},{}]})", spec, 1) == "3 results for 1 record sent");
  CHECK(problem("", spec, 1) == "empty");
  CHECK(problem(R"({"Records":[}])", spec, 1).starts_with("not JSON: "));
  CHECK(problem("[]", results("", "/e"), 1) == "0 results for 1 record sent");
}

TEST_CASE("BigQuery insertAll: only the failed rows, by index, sorted and once each", "[items]") {
  auto spec = failures("/insertErrors", "/errors");
  auto items = failed(R"({"kind":"bigquery#tableDataInsertAllResponse","insertErrors":[
      {"index":3,"errors":[{"reason":"invalid","message":"no such field: x"}]},
      {"index":0,"errors":[{"reason":"stopped","message":""}]},
      {"index":3,"errors":[{"reason":"again"}]}]})",
                      spec, 4);
  REQUIRE(items.size() == 2);
  CHECK(items[0].index == 0);
  CHECK(items[0].error == R"([{"reason":"stopped","message":""}])");
  CHECK(items[1].index == 3);
  CHECK(items[1].error == R"([{"reason":"invalid","message":"no such field: x"}])");
  CHECK(failed(R"({"kind":"bigquery#tableDataInsertAllResponse"})", spec, 4).empty());  // left out: none failed
  CHECK(failed(R"({"insertErrors":null})", spec, 4).empty());
  // Without --item-error, the element itself is the error.
  CHECK(failed(R"({"insertErrors":[{"index":1,"why":"x"}]})", failures("/insertErrors"), 2)[0].error ==
        R"({"index":1,"why":"x"})");
}

TEST_CASE("a failure without a usable index makes the reply unusable", "[items]") {
  auto spec = failures("/insertErrors");
  CHECK(problem(R"({"insertErrors":[{"index":"1"}]})", spec, 2) == "failure 1 has no whole number at /index");
  CHECK(problem(R"({"insertErrors":[{"index":0},{}]})", spec, 2) == "failure 2 has no whole number at /index");
  CHECK(problem(R"({"insertErrors":[{"index":2}]})", spec, 2) == "failure 1 names record 2 of 2 sent (counted from 0)");
  CHECK(problem(R"({"insertErrors":[{"index":-1}]})", spec, 2) == "failure 1 names record -1 of 2 sent (counted from 0)");
  CHECK(problem(R"({"insertErrors":"none"})", spec, 2) == "a string at /insertErrors, not an array");
  ItemResultsSpec escaped = failures("/a~1b/c~0d");
  escaped.index = "/i";
  CHECK(failed(R"({"a/b":{"c~d":[{"i":1}]}})", escaped, 2)[0].index == 1);
}

TEST_CASE("JSON Pointers are checked as RFC 6901 writes them", "[items]") {
  CHECK_FALSE(check_json_pointer(""));
  CHECK_FALSE(check_json_pointer("/RequestResponses"));
  CHECK_FALSE(check_json_pointer("/a~0b~1c/0"));
  CHECK(check_json_pointer("RequestResponses").value().starts_with("'RequestResponses' is not a JSON Pointer"));
  CHECK(check_json_pointer("/a~2").value().find("~0") != std::string::npos);
  CHECK(check_json_pointer("/a~").has_value());
}
