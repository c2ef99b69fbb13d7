#include "cli/option_table.h"

#include <array>

namespace batchpipe {
namespace {

using enum ValueKind;
using enum Section;

constexpr const char* kStatusForms = "statuses such as 3 or 409,500-502";

// Sections are kept together, in --help's order; within one, rows are in --help's order too.
// A row names only what it has; the rest keep OptionRow's defaults. GCC 12 warns
// about fields left out of a designated initializer even so (GCC 14 no longer does).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
// clang-format off
constexpr std::array kOptions = std::to_array<OptionRow>({
  {.names = "-h,--help", .help = "Print this help message and exit"},
  {.names = "-V,--version", .help = "Display program version information and exit"},
  {.names = "--size", .kind = One, .placeholder = "N", .fallback = "1000",
   .help = "Close a batch when it holds N records", .expects = "a whole number of at least 1"},
  {.names = "--interval", .kind = One, .placeholder = "DUR", .fallback = "500ms",
   .help = "Close a batch when its oldest record is DUR old; a bare number is seconds; 0 = off",
   .expects = kDurationForms},
  {.names = "--max-bytes", .kind = One, .placeholder = "SIZE", .fallback = "8M",
   .help = "Largest batch as written or sent, newline included (K/M/G = KiB/MiB/GiB)", .expects = kSizeForms},
  {.names = "--format", .kind = One, .placeholder = "FORMAT", .fallback = "array",
   .help = "Batch body: array ([r1,r2] and a newline), ndjson (each record and a newline) or bulk "
           "(Elasticsearch _bulk: an action line before each)",
   .expects = "array, ndjson or bulk"},
  {.names = "--wrap", .kind = One, .placeholder = "PREFIX@SUFFIX",
   .help = "Put the array where @ stands in PREFIX@SUFFIX, e.g. '{\"events\":@}'",
   .expects = "JSON with @ where the array goes, e.g. '{\"events\":@}'"},
  {.names = "--bulk-action", .kind = One, .placeholder = "JSON", .shown_default = "{\"index\":{}}",
   .help = "--format bulk's action line; {record_id} gives a stable id; record fields ({.service}) fill each "
           "record's own line",
   .expects = "a JSON object such as '{\"create\":{\"_id\":\"{record_id}\"}}'"},
  {.names = "--max-keys", .kind = One, .placeholder = "N", .fallback = "1000",
   .help = "Routing by field: keep at most N batches open, one per key; a new key closes the oldest",
   .expects = "a whole number of at least 1"},
  {.names = "--input", .kind = One, .placeholder = "FORMAT", .fallback = "json",
   .help = "json: each line is a JSON value; text: each line is a record as a JSON string",
   .expects = "json or text"},
  {.names = "--on-invalid", .kind = One, .placeholder = "MODE", .fallback = "skip",
   .help = "On an invalid line: skip (report, exit 1), fail (exit 3), quote (send as a JSON string)",
   .expects = "skip, fail or quote"},
  {.names = "--max-buffer", .kind = One, .placeholder = "SIZE", .fallback = "64M",
   .help = "Hold at most SIZE of records read but not yet delivered", .expects = kSizeForms},
  {.names = "--on-full", .kind = One, .placeholder = "MODE", .fallback = "block",
   .help = "When --max-buffer is full: block (stop reading) or drop (new records, exit 4)",
   .expects = "block or drop"},
  {.names = "--threads", .kind = One, .placeholder = "N", .shown_default = "online CPUs, at most 4",
   .help = "Validate on N threads; 1 = on the loop's own", .expects = "a whole number of at least 1"},
  {.names = "--stats", .kind = Optional, .placeholder = "=json", .fallback = "human",
   .help = "Print a summary on stderr at the end; --stats=json: one JSON object", .expects = "human or json"},
  {.names = "--progress", .help = "Show progress on stderr: a status line on a terminal, else a line every 10s"},
  {.names = "--metrics-file", .kind = One, .placeholder = "FILE",
   .help = "Write Prometheus metrics to FILE every 5s and at exit, atomically; not an input", .expects = "a file name"},
  {.names = "--metrics-label", .kind = Repeated, .placeholder = "KEY=VALUE",
   .help = "Put the label KEY=\"VALUE\" on every series of --metrics-file (repeatable)",
   .expects = "KEY=VALUE, KEY a Prometheus label name"},
  {.names = "-q,--quiet", .help = "Do not report invalid lines and retries one by one"},
  {.names = "--checkpoint", .kind = One, .placeholder = "FILE",
   .help = "Keep in FILE how far each input file was delivered; start there next time (not stdin)",
   .expects = "a file name"},
  {.names = "-F,--follow", .help = "Keep reading files as they grow, as tail -F does, across rotation and truncation"},
  {.names = "--spool", .kind = One, .placeholder = "DIR",
   .help = "Keep what stdin and pipes send in files in DIR until delivered: survives kill -9 and outages, "
           "restarts there; without --dead-letter, what is refused for good goes to DIR/refused.ndjson",
   .expects = "a directory name"},
  {.names = "--spool-max", .kind = One, .placeholder = "SIZE", .fallback = "1G",
   .help = "With --spool: at most SIZE on disk; then --on-full applies", .expects = kSizeForms},
  {.names = "--spool-sync", .kind = One, .placeholder = "DUR", .fallback = "200ms",
   .help = "With --spool: sync the spool to disk at least this often (what a power loss can take)",
   .expects = kDurationForms},
  {.names = "--rotate-wait", .kind = One, .placeholder = "DUR", .fallback = "5s",
   .help = "With -F, keep reading a renamed or deleted file until it has been quiet for DUR (renamed: and the new "
           "file was written)",
   .expects = kDurationForms},

  {.names = "--exec", .kind = One, .placeholder = "CMD", .section = Sink,
   .help = "Run '/bin/sh -c CMD' once per batch, the batch on its stdin; a pipeline's status is its last "
           "command's (see batchpipe(1))",
   .expects = "a shell command"},
  {.names = "--post", .kind = Repeated, .placeholder = "URL", .section = Sink,
   .help = "Send each batch to an http:// or https:// URL ({batch_id}, {batch} and {attempt} are filled in, also "
           "in -H; record fields such as {.service} route by key); several: round-robin over those that answer",
   .expects = "an http:// or https:// URL"},

  {.names = "--env", .kind = Repeated, .placeholder = "NAME=TEMPLATE", .section = Delivery,
   .help = "--exec: set NAME for the command from record fields, e.g. TENANT={.tenant}; batches kept per value",
   .expects = "NAME=TEMPLATE, e.g. TENANT={.tenant}"},
  {.names = "-H,--header", .kind = Repeated, .placeholder = "'NAME: VALUE'|@FILE", .section = Http,
   .help = "Add a request header; @FILE reads one a line, again when it changes; not Idempotency-Key", .expects = "'Name: value' or @FILE"},
  {.names = "--method", .kind = One, .placeholder = "METHOD", .fallback = "POST", .section = Http,
   .help = "HTTP method: POST or PUT", .expects = "POST or PUT"},
  {.names = "--compress", .kind = One, .placeholder = "METHOD[:LEVEL]", .section = Http,
   .help = "Compress request bodies: gzip (libdeflate, LEVEL 1-12 [6]) or zstd (LEVEL 1-22 [3]), on the worker "
           "threads",
   .expects = "gzip[:LEVEL] (LEVEL 1-12, default 6) or zstd[:LEVEL] (LEVEL 1-22, default 3)"},
  {.names = "--connect-timeout", .kind = One, .placeholder = "DUR", .fallback = "10s", .section = Http,
   .help = "Limit on connecting", .expects = kDurationForms},
  {.names = "--cacert", .kind = One, .placeholder = "FILE", .section = Http,
   .help = "Trust the CA certificates in FILE (PEM)", .expects = "a file of PEM certificates"},
  {.names = "--cert", .kind = One, .placeholder = "FILE", .section = Http,
   .help = "Present the client certificate in FILE (PEM; its key too, unless --key); read again when it changes",
   .expects = "a PEM file with the client certificate"},
  {.names = "--key", .kind = One, .placeholder = "FILE", .section = Http,
   .help = "The private key of --cert, in FILE (PEM, not encrypted)", .expects = "a PEM file with a private key"},
  {.names = "--aws-sigv4", .kind = One, .placeholder = "PROVIDER1[:PROVIDER2[:REGION[:SERVICE]]]", .section = Http,
   .help = "Sign requests with AWS Signature V4 (curl's --aws-sigv4), keys from AWS_ACCESS_KEY_ID, "
           "AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN",
   .expects = "such as aws:amz:us-east-1:firehose"},
  {.names = "--insecure", .section = Http, .help = "Do not verify TLS certificates (warns)"},
  {.names = "--item-results", .kind = One, .placeholder = "POINTER", .section = Http,
   .help = "In a 2xx reply, the array (a JSON Pointer, e.g. /RequestResponses) of one result per record: only the "
           "failed records are sent again or fail alone",
   .expects = "a JSON Pointer such as /RequestResponses"},
  {.names = "--item-failures", .kind = One, .placeholder = "POINTER", .section = Http,
   .help = "In a 2xx reply, the array (e.g. /insertErrors) listing only the failed records, by index",
   .expects = "a JSON Pointer such as /insertErrors"},
  {.names = "--item-index", .kind = One, .placeholder = "POINTER", .fallback = "/index", .section = Http,
   .help = "Where a --item-failures element names its record, counted from 0",
   .expects = "a JSON Pointer such as /index"},
  {.names = "--item-error", .kind = One, .placeholder = "POINTER", .section = Http,
   .help = "Where an item holds its error (e.g. /ErrorCode); present and not null = failed",
   .expects = "a JSON Pointer such as /ErrorCode"},
  {.names = "--item-retryable", .kind = Repeated, .placeholder = "REGEX", .section = Http,
   .help = "Send a failed item again when its error matches REGEX (grep -E); otherwise it fails alone",
   .expects = "an extended regular expression such as 'ServiceUnavailable|InternalFailure'"},

  {.names = "-j,--parallel", .kind = One, .placeholder = "N|auto[:MAX]", .fallback = "1",
   .shown_default = "1; MAX: 32", .section = Delivery,
   .help = "Deliver up to N batches at once, committed in input order; auto[:MAX]: adapt to the receiver, from 1 "
           "up to MAX, settling where its latency starts to grow or it answers 429",
   .expects = "a whole number from 1 to 256, or auto, or auto:MAX"},
  {.names = "--rate", .kind = One, .placeholder = "N/s|N/m", .shown_default = "no limit", .section = Delivery,
   .help = "Start at most N requests a second (N/s) or a minute (N/m), evenly spaced, over all workers; retries "
           "count",
   .expects = "a rate such as 20/s or 600/m"},
  {.names = "--permanent-status", .kind = One, .placeholder = "LIST", .section = Delivery,
   .help = "Give a batch up without retries on these exit statuses (--exec) or HTTP statuses (--post), e.g. 3 or "
           "409,422",
   .expects = kStatusForms},
  {.names = "--retryable-status", .kind = One, .placeholder = "LIST", .section = Delivery,
   .help = "Retry on these statuses, even ones that stop the run (127, 404)", .expects = kStatusForms},
  {.names = "--bisect-on", .kind = One, .placeholder = "LIST", .shown_default = "off; 413 always splits",
   .section = Delivery,
   .help = "Split a batch refused with these HTTP statuses (e.g. 400,422) or exit statuses (psql: 3, sqlite3: 19) until the bad "
           "records are alone",
   .expects = "HTTP statuses such as 400,422, or exit statuses such as 3"},
  {.names = "--retryable-reply", .kind = Repeated, .placeholder = "REGEX", .section = Delivery,
   .help = "Retry a failure whose reply (HTTP body, or --exec's stderr) matches REGEX (grep -E), whatever its "
           "status; first of the reply rules",
   .expects = "an extended regular expression such as 'Code: 252'"},
  {.names = "--bisect-reply", .kind = Repeated, .placeholder = "REGEX", .section = Delivery,
   .help = "Split a batch whose failure's reply matches REGEX until the bad records are alone",
   .expects = "an extended regular expression such as 'Code: 27'"},
  {.names = "--permanent-reply", .kind = Repeated, .placeholder = "REGEX", .section = Delivery,
   .help = "Give a batch up without retries when its failure's reply matches REGEX",
   .expects = "an extended regular expression such as 'entry out of order'"},
  {.names = "-v,--verbose", .section = Delivery, .help = "Log every delivery attempt on stderr"},
  {.names = "--map", .section = Delivery,
   .help = "The answer is a JSON array, one element per record: print each record's, in order"},
  {.names = "--map-with-input", .section = Delivery,
   .help = "As --map, printing {\"in\":RECORD,\"out\":ANSWER} for each record"},
  {.names = "--retries", .kind = One, .placeholder = "N|inf", .fallback = "5", .shown_default = "5; inf with -F",
   .section = Delivery,
   .help = "Retries after a failed attempt; inf = until delivered, usually with --retry-max-time",
   .expects = "a whole number, 0 for none, or inf"},
  {.names = "--retry-delay", .kind = One, .placeholder = "DUR", .fallback = "500ms", .section = Delivery,
   .help = "First retry delay, doubled each time", .expects = kDurationForms},
  {.names = "--retry-max-delay", .kind = One, .placeholder = "DUR", .fallback = "30s", .section = Delivery,
   .help = "Longest delay between retries", .expects = kDurationForms},
  {.names = "--retry-max-time", .kind = One, .placeholder = "DUR", .fallback = "0", .section = Delivery,
   .help = "Give a batch up after this long; 0 = no limit", .expects = kDurationForms},
  {.names = "--timeout", .kind = One, .placeholder = "DUR", .shown_default = "--exec: 0, --post: 30s",
   .section = Delivery, .help = "Limit on each attempt; 0 = none", .expects = kDurationForms},
  {.names = "--on-error", .kind = One, .placeholder = "MODE", .fallback = "continue", .section = Delivery,
   .help = "After retries run out: continue (exit 4) or stop (exit 5)", .expects = "continue or stop"},
  {.names = "--dead-letter", .kind = One, .placeholder = "FILE", .section = Delivery,
   .help = "Append undelivered records to FILE as NDJSON (mode 0600); not an input; yours alone",
   .expects = "a file name"},
  {.names = "--dead-letter-reasons", .kind = One, .placeholder = "FILE", .section = Delivery,
   .help = "With --dead-letter, append why each record was given up to FILE, a JSON line each (mode 0600)",
   .expects = "a file name"},
  {.names = "--grace", .kind = One, .placeholder = "DUR", .fallback = "10s", .section = Delivery,
   .help = "After SIGTERM/SIGINT/SIGHUP, time left for deliveries under way", .expects = kDurationForms},
});
// clang-format on
#pragma GCC diagnostic pop

}  // namespace

std::span<const OptionRow> option_table() { return kOptions; }

std::vector<std::string_view> option_names(const OptionRow& row) {
  std::vector<std::string_view> names;
  std::string_view rest = row.names;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    names.push_back(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return names;
}

std::string_view long_name(const OptionRow& row) { return option_names(row).back(); }

const OptionRow* find_option(std::string_view name) {
  for (const OptionRow& row : kOptions)
    for (std::string_view n : option_names(row))
      if (n == name) return &row;
  return nullptr;
}

std::string_view section_title(Section section) {
  switch (section) {
    case General: return "Options";
    case Sink: return "Sinks (default: stdout)";
    case Delivery: return "Delivery (with --exec or --post)";
    case Http: return "HTTP (with --post)";
  }
  return "";
}

std::string_view shown_default(const OptionRow& row) {
  if (!row.shown_default.empty()) return row.shown_default;
  return row.kind == Optional ? std::string_view() : row.fallback;
}

}  // namespace batchpipe
