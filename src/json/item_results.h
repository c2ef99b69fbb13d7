// Reading per-item results out of any JSON reply, as the user points at them
// with RFC 6901 JSON Pointers: an array of one result per record, in order
// (Firehose PutRecordBatch's "RequestResponses", Kinesis PutRecords'
// "Records"), or an array listing only the failed records by index (BigQuery
// insertAll's "insertErrors"). Pure; the retry decision is the caller's.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace batchpipe {

struct ItemResultsSpec {
  /// --item-results: the array holding one result per record sent, in order;
  /// an element whose `error` is present and not null failed.
  std::optional<std::string> results;
  /// --item-failures: the array listing only failed records, each element
  /// naming its record's 0-based place at `index`; missing or null: none failed.
  std::optional<std::string> failures;
  std::string index = "/index";  ///< --item-index, relative to a failures element
  std::string error;             ///< --item-error, relative to an element; "" = the element itself
};

struct FailedItem {
  size_t index = 0;    ///< the record's place in the request, from 0
  std::string error;   ///< the error value: a string's text, else its JSON (for --item-retryable)
  std::string reason;  ///< "item error: " and the element's JSON, one line, at most kBulkReasonLimit bytes
};

/// Why `pointer` is not a JSON Pointer (RFC 6901: "" or "/"-separated
/// reference tokens, '~' only as ~0 or ~1), meant to follow the option's
/// name; nothing if it is one.
std::optional<std::string> check_json_pointer(std::string_view pointer);

/// The failed items of `body`, a reply to a request of `records` records,
/// in the order of their indices (one per record: an index listed twice is
/// one item, the first listing's error kept). Returns why the reply cannot
/// be used instead, meant to follow a prefix such as "item results: ": not
/// JSON ("not JSON: expected ',' or '}' at byte 12"), no array at the
/// results pointer ("no array at /RequestResponses"), another number of
/// results than records ("2 results for 3 records sent"), a failures
/// element without an integer index in range ("failure 2 has no index at
/// /index", "failure 1 names record 7 of 3 sent"), or a failures pointer at
/// something other than an array or null. The caller retries the request
/// whole then.
std::variant<std::vector<FailedItem>, std::string> read_item_results(std::string_view body,
                                                                     const ItemResultsSpec& spec, size_t records);

}  // namespace batchpipe
