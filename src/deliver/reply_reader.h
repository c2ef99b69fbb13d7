// What a receiver answered to a delivered attempt, read record by record:
// Elasticsearch's _bulk response (--format bulk), or one answer per record
// (--map). The engine asks a ReplyReader after every attempt the transport
// calls delivered, and acts on the verdict: records to retry go again as a
// smaller request, rejected ones fail alone, answers are printed at commit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "batch/batch_encoder.h"
#include "deliver/failure_rules.h"
#include "json/bulk_reply.h"
#include "json/item_results.h"

namespace batchpipe {

struct ReplyVerdict {
  /// Not empty: the reply cannot be used (it does not parse, or names another
  /// number of records); the attempt counts as failed and is retried whole.
  std::string broken;
  /// One per record sent, or empty when every record was stored.
  std::vector<ItemVerdict> items;
  /// --map: where each record's answer is in the reply, for the first
  /// answers.size() records; the rest got none (their items say so).
  std::vector<std::pair<uint32_t, uint32_t>> answers;
  /// Said once for the batch, e.g. answers beyond the records ignored.
  std::string warning;
};

class ReplyReader {
 public:
  virtual ~ReplyReader() = default;
  /// Reads `reply`, the answer to sending `sent`.
  virtual ReplyVerdict read(const Batch& sent, std::string_view reply) const = 0;
  /// True if the answers are the output (--map): the engine keeps the reply.
  virtual bool keeps_answers() const { return false; }
};

/// --format bulk with --post: Elasticsearch's _bulk response.
std::unique_ptr<ReplyReader> make_bulk_reader();
/// --map: the reply is a JSON array of one answer per record.
std::unique_ptr<ReplyReader> make_map_reader();

/// --item-results or --item-failures: where a 2xx reply says which records
/// failed, and --item-retryable: which of their errors are worth sending
/// again (any pattern found in the error value); the others fail alone.
struct ItemRules {
  ItemResultsSpec spec;
  std::vector<ReplyPattern> retryable;
};
std::unique_ptr<ReplyReader> make_item_reader(ItemRules rules);

/// All of what `fd` holds from offset 0 (a command's captured output).
bool read_whole(int fd, std::string& out);

}  // namespace batchpipe
