// Reading an Elasticsearch / OpenSearch `_bulk` response: which records were
// stored, which a smaller request should carry again, and which failed alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace batchpipe {

enum class ItemFate {
  Stored,          ///< 2xx
  AlreadyPresent,  ///< 409 on a "create" item: a document with that id is stored already
  Retry,           ///< 429 and 5xx: worth sending again
  Rejected,        ///< every other status: the record fails alone
};

struct ItemVerdict {
  ItemFate fate = ItemFate::Stored;
  /// For Retry and Rejected: the status and the item's own error, one line of
  /// at most kBulkReasonLimit bytes, e.g. "HTTP 400 mapper_parsing_exception:
  /// failed to parse field [n] of type [long]". Empty otherwise.
  std::string reason;
};

struct BulkReply {
  std::vector<ItemVerdict> items;  ///< one per record sent, in request order
  uint64_t stored = 0, already = 0, retry = 0, rejected = 0;
};

/// Longest ItemVerdict::reason, "..." included.
inline constexpr size_t kBulkReasonLimit = 300;

/// Reads the body of a `_bulk` response to a request of `items_sent` records.
///
/// `"errors":false` means every record is stored, whatever the items say
/// ("items" may be left out, as with `filter_path=errors`; when present its
/// length must still match). Otherwise each item must be an object with one
/// key, the action (index, create, update, delete), whose value is an object
/// with an integer HTTP `status` (100-599) and maybe an `error` (an object
/// with `type`, `reason` and `caused_by`, or a string). Whether a 409 means
/// AlreadyPresent is decided by that item's own action key, which the server
/// copies from the request. Members may come in any order.
///
/// Returns an error, meant to follow a prefix such as "_bulk reply: ", when the
/// body is empty or not JSON ("not JSON: expected ',' or '}' at byte 12",
/// check_json's words, bytes counted from 1), is not an object with one
/// boolean "errors", lacks the "items" array that "errors":true needs, has a
/// different number of items than records sent ("2 items for 3 records
/// sent"), or, with "errors":true, has an item not shaped as above (e.g.
/// "item 4 has no \"status\""). The caller then treats the whole request as
/// failed.
///
/// Linear time; a 17 MB reply of 100,000 items takes about 0.1 s.
std::variant<BulkReply, std::string> read_bulk_reply(std::string_view body, size_t items_sent);

}  // namespace batchpipe
