// The frozen result of command-line parsing: everything a run needs to know.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "batch/body_format.h"
#include "batch/route.h"
#include "deliver/retry_policy.h"
#include "deliver/failure_rules.h"
#include "deliver/token_bucket.h"
#include "report/stats.h"
#include "sinks/codec_options.h"
#include "sinks/header_source.h"
#include "sinks/aws_signing.h"
#include "json/item_results.h"
#include "base/units.h"

namespace batchpipe {

enum class InvalidMode { Skip, Fail, Quote };

struct Config {
  std::vector<std::string> inputs;     ///< "-" is stdin; never empty after parsing
  uint64_t batch_size = 1000;          ///< --size: records per batch, >= 1
  Duration interval = std::chrono::milliseconds(500);  ///< --interval; zero = off
  uint64_t max_bytes = 8 << 20;        ///< --max-bytes: encoded batch, brackets and newline included
  InvalidMode on_invalid = InvalidMode::Skip;
  BodyFormat format;                   ///< --format, --wrap, --bulk-action: how a batch's body is laid out
  bool text_input = false;             ///< --input text: every line is a record, as a JSON string
  uint32_t threads = 1;                ///< --threads: validation threads; 1 = the loop's own
  StatsFormat stats = StatsFormat::None;  ///< --stats[=json]: summary on stderr at the end
  bool progress = false;               ///< --progress: figures on stderr as the run goes
  std::string metrics_file;            ///< --metrics-file: Prometheus text, rewritten every 5 s; empty = none
  std::vector<std::pair<std::string, std::string>> metrics_labels;  ///< --metrics-label KEY=VALUE, in order
  bool quiet = false;                  ///< -q: no per-line warnings

  // Delivery (--exec or --post); the stdout sink when neither is given.
  std::string exec_command;            ///< --exec: run by /bin/sh -c once per batch
  std::string post_url;                ///< --post: http:// or https://; the first of post_urls; may hold
                                       ///< {batch_id}, {batch}, {attempt}
  std::vector<std::string> post_urls;  ///< every --post URL, in the order given; several: failover
  std::string method = "POST";         ///< --method: POST or PUT
  StatusList bisect_on;                ///< --bisect-on: statuses (HTTP, or exit with --exec) that split a request
                                       ///< until the bad records are alone
  std::vector<std::string> headers;    ///< -H/--header, @FILE already read: every header, in order
  std::vector<HeaderPart> header_parts;  ///< the same by -H value; a regular @FILE is read again when it changes
  std::vector<std::string> secrets;    ///< never quoted back: pieces of the values of Authorization,
                                       ///< Cookie, Proxy-Authorization and every header from @FILE
  CodecChoice compress;                ///< --compress METHOD[:LEVEL]; CodecKind::None = off
  Duration connect_timeout = std::chrono::seconds(10);  ///< --connect-timeout
  std::string cacert;                  ///< --cacert FILE
  bool insecure = false;               ///< --insecure
  std::string cert;                    ///< --cert FILE: the client certificate (PEM), its key too without --key
  std::string key;                     ///< --key FILE: the client certificate's private key (PEM)
  AwsSigning aws;                      ///< --aws-sigv4, with the keys from the environment
  bool verbose = false;                ///< -v: one line per delivery attempt
  RetryOptions retry;                  ///< --retries, --retry-delay, --retry-max-delay, --retry-max-time
  Duration timeout{0};                 ///< --timeout: per attempt; zero = none (default 30s with --post)
  bool stop_on_error = false;          ///< --on-error stop
  bool map = false;                    ///< --map: print one answer per record, from the reply
  ItemResultsSpec item_spec;           ///< --item-results or --item-failures, --item-index, --item-error
  std::vector<ReplyPattern> item_retryable;  ///< --item-retryable
  /// Whether a 2xx reply says which records failed (--item-results, --item-failures).
  bool reads_items() const { return item_spec.results || item_spec.failures; }
  bool map_with_input = false;         ///< --map-with-input: {"in":record,"out":answer}
  std::string dead_letter;             ///< --dead-letter FILE; empty = none
  std::string dead_letter_reasons;     ///< --dead-letter-reasons FILE: why, a JSON line per record; empty = none
  Duration grace = std::chrono::seconds(10);  ///< --grace: after SIGTERM/SIGINT
  uint32_t parallel = 1;               ///< --parallel: batches in flight at once, 1..kMaxParallel; with auto, the most
  bool parallel_auto = false;          ///< --parallel auto[:MAX]: the limit adapts (concurrency_controller.h)
  StatusRules status_rules;            ///< --permanent-status, --retryable-status
  ReplyRules reply_rules;              ///< --retryable-reply, --bisect-reply, --permanent-reply
  Rate rate;                           ///< --rate: request starts per unit over all workers; count 0 = no limit

  // Resuming and following files.
  std::string checkpoint;              ///< --checkpoint FILE: where committed positions are kept; empty = none
  bool follow = false;                 ///< -F/--follow: keep reading files as they grow, across rotation
  Duration rotate_wait = std::chrono::seconds(5);  ///< --rotate-wait: a renamed or deleted followed file is left once quiet this long

  // Memory.
  uint64_t max_buffer = 64 << 20;      ///< --max-buffer: bytes read but not yet committed
  bool drop_when_full = false;         ///< --on-full drop (default: block)

  // The disk spool (--spool DIR): stdin, pipes and FIFOs pass through it.
  std::string spool;                   ///< --spool DIR; empty = none
  uint64_t spool_max = uint64_t{1} << 30;  ///< --spool-max: bytes of segments on disk at most
  Duration spool_sync = std::chrono::milliseconds(200);  ///< --spool-sync: fdatasync at least this often

  // Routing by field.
  RouteTemplates routes;               ///< --post, -H, --env, --wrap, --bulk-action as given, for the Router
  uint64_t max_keys = kDefaultMaxKeys; ///< --max-keys: keys with an open batch at most
  /// Every rule on failed attempts, as the transports take them.
  FailureRules failure_rules() const { return {status_rules, bisect_on, reply_rules}; }

  bool delivers() const { return !exec_command.empty() || !post_url.empty(); }
};

/// The smallest --max-bytes that holds any record at all in the default
/// format ("[" 1 byte "]" "\n"); other formats need what their frame needs.
inline constexpr uint64_t kMinMaxBytes = 4;
/// The most validation threads (--threads), and the most used by default.
inline constexpr uint32_t kMaxThreads = 64;
inline constexpr uint32_t kDefaultMaxThreads = 4;
/// The most batches in flight (--parallel).
inline constexpr uint32_t kMaxParallel = 256;
/// The most attempts at once for --parallel auto without :MAX.
inline constexpr uint32_t kDefaultAutoMax = 32;
/// The highest --rate count, per second or per minute.
inline constexpr uint64_t kMaxRate = 1000000;
/// The largest --max-bytes: a batch is held in memory whole.
inline constexpr uint64_t kMaxMaxBytes = uint64_t{1} << 30;

/// A spool segment holds about an eighth of --spool-max (so that a full
/// spool frees room in steps of an eighth), between 1 MiB and 64 MiB.
inline uint64_t spool_segment_bytes(uint64_t spool_max) {
  uint64_t s = spool_max / 8;
  return s < (1 << 20) ? (1 << 20) : s > (64 << 20) ? (64 << 20) : s;
}

}  // namespace batchpipe
