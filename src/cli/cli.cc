#include "cli/cli.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/format_options.h"
#include "cli/output_clash.h"
#include "cli/suggest.h"
#include "base/unique_fd.h"
#include "cli/url_check.h"
#include "sinks/reply_quote.h"
#include "sinks/request_template.h"

namespace batchpipe {
namespace {

constexpr const char* kFooter = R"(Exit status: 0 all delivered, 1 invalid lines skipped, 2 usage error,
3 stopped at an invalid line, 4 records undelivered, 5 stopped after a delivery failure,
6 an input file could not be read, 7 out of a system resource at start-up,
129/130/143 stopped by SIGHUP/SIGINT/SIGTERM.
See batchpipe(1) for details.)";

/// A flag's value that the parser accepted as text but that does not mean anything.
struct BadValue {
  std::string message;
};

/// How a size or duration is written, for messages.
constexpr const char* kSizeForms = "a size such as 65536, 64K, 8M or 1G";
constexpr const char* kDurationForms = "a duration such as 250ms, 2s, 1.5s or 5m (a bare number is seconds)";

uint64_t to_count(const std::string& flag, const std::string& text, uint64_t minimum = 1) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range && end == text.data() + text.size())
    throw BadValue{fmt::format("{}: {} is too large", flag, text)};
  if (ec != std::errc() || end != text.data() + text.size() || value < minimum)
    throw BadValue{fmt::format("{}: expected a whole number of at least {}, got '{}'", flag, minimum, text)};
  return value;
}

/// The number in front of `text` ("1.5" of "1.5ms") and the unit after it, when
/// the number is a plain decimal; used to say why a size or duration was refused.
std::optional<std::pair<double, std::string>> number_and_unit(const std::string& text) {
  size_t i = text.find_first_not_of("0123456789.");
  std::string number = text.substr(0, i);
  if (number.empty() || number.find_first_of("0123456789") == std::string::npos ||
      number.find('.') != number.rfind('.'))
    return std::nullopt;
  return std::pair{std::strtod(number.c_str(), nullptr), i == std::string::npos ? "" : text.substr(i)};
}

Duration to_duration(const std::string& flag, const std::string& text) {
  auto d = parse_duration(text);
  if (d) return *d;
  auto parts = number_and_unit(text);
  if (parts && parse_duration("1" + parts->second)) throw BadValue{fmt::format("{}: {} is too large", flag, text)};
  throw BadValue{fmt::format("{}: expected {}, got '{}'", flag, kDurationForms, text)};
}

uint64_t to_size(const std::string& flag, const std::string& text, uint64_t minimum,
                 uint64_t maximum = kMaxMaxBytes, const char* maximum_text = "1G") {
  auto s = parse_size(text);
  if (!s) {
    auto parts = number_and_unit(text);
    auto unit = parts ? parse_size("1" + parts->second) : std::nullopt;
    if (unit && parts->first * static_cast<double>(*unit) >= 1e18)
      throw BadValue{fmt::format("{}: {} is too large (at most {})", flag, text, maximum_text)};
    if (unit) throw BadValue{fmt::format("{}: {} is not whole bytes", flag, text)};
    throw BadValue{fmt::format("{}: expected {}, got '{}'", flag, kSizeForms, text)};
  }
  if (*s < minimum) throw BadValue{fmt::format("{}: must be at least {} bytes, got '{}'", flag, minimum, text)};
  if (*s > maximum) throw BadValue{fmt::format("{}: {} is too large (at most {})", flag, text, maximum_text)};
  return *s;
}

/// "skip, fail or quote"
std::string one_of(const std::vector<std::string>& modes) {
  std::string out;
  for (size_t i = 0; i < modes.size(); ++i)
    out += (i == 0 ? "" : i + 1 == modes.size() ? " or " : ", ") + modes[i];
  return out;
}

const std::string& to_mode(const std::string& flag, const std::string& text, const std::vector<std::string>& modes) {
  for (const std::string& m : modes)
    if (text == m) return m;
  throw BadValue{fmt::format("{}: expected {}, got '{}'", flag, one_of(modes), text)};
}

/// The whole of a small file the user named, for -H @FILE and --cacert: a
/// directory, a file that cannot be read or one over `limit` bytes is refused
/// with a message that begins with `what`.
std::string read_small_file(const std::string& what, const std::string& path, size_t limit) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0)
    throw BadValue{fmt::format("{}: cannot read {}: {}", what, path, std::strerror(errno))};
  if (S_ISDIR(st.st_mode)) throw BadValue{fmt::format("{}: {} is a directory, not a file", what, path)};
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw BadValue{fmt::format("{}: cannot read {}: {}", what, path, std::strerror(errno))};
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > limit) throw BadValue{fmt::format("{}: {} is larger than {} bytes", what, path, limit)};
  }
  return text;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

/// A header as curl sends it: a token, a colon, a value on one line.
std::string to_header(const std::string& text, const std::string& origin) {
  std::string h = text;
  while (!h.empty() && (h.back() == '\r' || h.back() == ' ' || h.back() == '\t')) h.pop_back();
  size_t colon = h.find(':');
  bool token = colon != std::string::npos && colon > 0 &&
               std::all_of(h.begin(), h.begin() + static_cast<long>(colon), [](unsigned char c) {
                 return std::isalnum(c) || std::strchr("!#$%&'*+-.^_`|~", c);
               });
  if (!token || h.find_first_of("\r\n") != std::string::npos)
    throw BadValue{fmt::format("--header: expected 'Name: value'{}", origin)};
  if (equals_ignoring_case(std::string_view(h).substr(0, colon), "Idempotency-Key"))
    throw BadValue{fmt::format("--header: Idempotency-Key{} cannot be set: batchpipe sends its own, one per batch "
                               "and the same on every retry, which a receiver that drops duplicates relies on",
                               origin)};
  return h;
}

/// Adds the pieces of `header`'s value to `secrets` if it is secret: by its
/// name, or because it came from a file (`from_file`).
void note_secret(const std::string& header, bool from_file, std::vector<std::string>& secrets) {
  size_t colon = header.find(':');
  if (!from_file && !is_secret_header(std::string_view(header).substr(0, colon))) return;
  for (std::string& piece : secret_pieces(std::string_view(header).substr(colon + 1))) secrets.push_back(std::move(piece));
}

/// -H values: "Name: value", or "@FILE" with one header a line (blank lines
/// and lines starting with '#' are skipped), so secrets stay out of ps.
/// The values never to quote back go to `secrets`.
std::vector<std::string> to_headers(const std::vector<std::string>& values, std::vector<std::string>& secrets) {
  std::vector<std::string> out;
  for (const std::string& v : values) {
    if (v.empty() || v[0] != '@') {
      out.push_back(to_header(v, ""));
      note_secret(out.back(), false, secrets);
      continue;
    }
    std::string path = v.substr(1);
    if (path.empty()) throw BadValue{"--header @: expected a file name after '@'"};
    std::string text = read_small_file("--header", path, 1 << 20);
    size_t start = 0;
    for (int n = 1; start < text.size(); ++n) {
      size_t end = std::min(text.find('\n', start), text.size());
      std::string line = text.substr(start, end - start);
      start = end + 1;
      if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
      out.push_back(to_header(line, fmt::format(" on line {} of {}", n, path)));
      note_secret(out.back(), true, secrets);
    }
  }
  return out;
}

/// --cacert: a readable file with at least one PEM certificate in it.
void check_cacert(const std::string& path) {
  std::string text = read_small_file("--cacert", path, 64 << 20);
  if (text.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    throw BadValue{fmt::format("--cacert: {} has no PEM certificate in it (no '-----BEGIN CERTIFICATE-----' line)",
                               path)};
}

/// Refuses a --dead-letter file that is also an input: replaying it into
/// itself would never end. Compared by device and inode, so other names for
/// the same file (links, ./x, /dev/stdin) count; a file that does not exist
/// yet is no input. Only regular files loop: `--dead-letter /dev/null` with
/// stdin from /dev/null, as under cron or systemd, is fine.
void check_dead_letter_not_input(const std::string& dead_letter, const std::vector<std::string>& inputs) {
  struct stat dl {};
  if (::stat(dead_letter.c_str(), &dl) != 0 || !S_ISREG(dl.st_mode)) return;
  for (const std::string& input : inputs) {
    struct stat in {};
    bool stdin_input = input == "-";
    if ((stdin_input ? ::fstat(STDIN_FILENO, &in) : ::stat(input.c_str(), &in)) != 0) continue;
    if (in.st_dev == dl.st_dev && in.st_ino == dl.st_ino)
      throw BadValue{fmt::format("--dead-letter {}: it is also {}; replaying a dead-letter file into itself never "
                                 "ends: move it aside first (mv {} replay.ndjson) and read that",
                                 dead_letter, stdin_input ? "the standard input" : "an input", dead_letter)};
  }
}

/// --retries: a count (capped at a million, a few years of retries at the
/// default delays) or "inf".
uint32_t to_retries(const std::string& text) {
  if (text == "inf") return kRetriesForever;
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    throw BadValue{fmt::format("--retries: expected a whole number (0 for none) or inf, got '{}'", text)};
  return static_cast<uint32_t>(std::min<uint64_t>(to_count("--retries", text, 0), 1000000));
}

/// --rate: "N/s" or "N/m", N from 1 to kMaxRate.
Rate to_rate(const std::string& text) {
  size_t slash = text.find('/');
  std::string count = text.substr(0, slash), unit = slash == std::string::npos ? "" : text.substr(slash + 1);
  if (slash == std::string::npos || count.empty() || count.find_first_not_of("0123456789") != std::string::npos ||
      (unit != "s" && unit != "m"))
    throw BadValue{fmt::format("--rate: expected requests per second or minute, such as 20/s or 600/m, got '{}'", text)};
  uint64_t n = to_count("--rate", count);
  if (n > kMaxRate) throw BadValue{fmt::format("--rate: {} is too many (at most {}/{})", text, kMaxRate, unit)};
  return {n, unit == "s" ? Duration(std::chrono::seconds(1)) : Duration(std::chrono::minutes(1))};
}

/// --permanent-status and --retryable-status: exit statuses 1-255 with
/// --exec, HTTP statuses 100-599 but 2xx with --post; no status in both.
StatusRules to_status_rules(const std::string& permanent, const std::string& retryable, bool exec) {
  StatusRules rules;
  auto parse = [&](const char* flag, const std::string& text, StatusList& out) {
    if (text.empty()) return;
    std::string error;
    auto list = exec ? StatusList::parse(text, 1, 255, error) : StatusList::parse(text, 100, 599, error);
    if (!list) throw BadValue{fmt::format("{}: {}{}", flag, error, exec ? " (exit statuses of --exec)" : " (HTTP statuses)")};
    if (!exec && list->touches(200, 299))
      throw BadValue{fmt::format("{}: 2xx means delivered and cannot be named, got '{}'", flag, text)};
    out = std::move(*list);
  };
  parse("--permanent-status", permanent, rules.permanent);
  parse("--retryable-status", retryable, rules.retryable);
  if (auto both = rules.permanent.overlap(rules.retryable))
    throw BadValue{fmt::format("--permanent-status and --retryable-status both name {}", *both)};
  return rules;
}

/// True for a duration written as a bare number, which counts seconds.
bool bare_number(const std::string& text) {
  return !text.empty() && text.find_first_not_of("0123456789.") == std::string::npos;
}

/// Every option name the app knows, "--size" and "-q" alike.
std::vector<std::string> option_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : app.get_options()) {
    for (const std::string& l : opt->get_lnames()) names.push_back("--" + l);
    for (const std::string& s : opt->get_snames()) names.push_back("-" + s);
  }
  return names;
}

/// CLI11's complaint in our own words: the flag, and what it takes.
std::string usage_message(const CLI::App& app, const CLI::ParseError& e,
                          const std::map<std::string, std::string>& forms) {
  std::string what = e.what();
  std::string name = what.substr(0, what.find(':'));
  if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
    std::vector<std::string> rest = app.remaining();
    for (const std::string& arg : rest) {
      if (arg.size() < 2 || arg[0] != '-') continue;
      std::string flag = arg.substr(0, arg.find('='));
      auto near = closest_name(flag, option_names(app));
      return near ? fmt::format("unknown option {}; did you mean {}?", flag, *near)
                  : fmt::format("unknown option {}", flag);
    }
    return fmt::format("unexpected argument '{}'", rest.empty() ? what : rest.front());
  }
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) && what.find(" missing") != std::string::npos) {
    auto form = forms.find(name);
    if (form != forms.end()) return fmt::format("{}: missing value; expected {}", name, form->second);
  }
  if (dynamic_cast<const CLI::ConversionError*>(&e)) {
    // "Could not convert: --stats = abc": only flags get here, as every option's value is taken as text.
    constexpr std::string_view kPrefix = "Could not convert: ";
    size_t equals = what.find(" = ");
    if (what.starts_with(kPrefix) && equals != std::string::npos)
      return fmt::format("{} is a flag and takes no value, got '{}'", what.substr(kPrefix.size(), equals - kPrefix.size()),
                         what.substr(equals + 3));
  }
  return what;
}

/// Validation threads when --threads is not given: one a CPU, up to the
/// point where more stopped helping (see README, Performance).
uint32_t default_threads() {
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  return static_cast<uint32_t>(std::clamp<long>(cpus, 1, kDefaultMaxThreads));
}

}  // namespace

CliResult parse_cli(int argc, const char* const* argv) {
  CliResult result;
  Config config;
  std::string size = "1000", interval = "500ms", max_bytes = "8M", on_invalid = "skip";
  std::string retries = "5", retry_delay = "500ms", retry_max_delay = "30s", retry_max_time = "0",
              timeout, grace = "10s", on_error = "continue", compress, connect_timeout = "10s";
  std::string permanent_status, retryable_status, rate, parallel = "1", max_buffer = "64M", on_full = "block", threads,
      input_format = "json", stats;
  std::string format = "array", wrap, bulk_action, method = "POST", bisect_on;
  std::vector<std::string> headers;

  CLI::App app{"Read NDJSON records and deliver them in batches: JSON arrays, NDJSON or Elasticsearch _bulk bodies.",
               "batchpipe"};
  app.get_formatter()->column_width(24);
  app.footer(kFooter);
  // A scalar option given twice: the last one wins, as with curl and GNU tools.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_version_flag("-V,--version", "batchpipe " BATCHPIPE_VERSION);

  // What each option's value looks like, for "missing value" messages.
  std::map<std::string, std::string> forms;
  auto takes = [&](CLI::Option* opt, std::string what) {
    forms[opt->get_name()] = std::move(what);
    return opt;
  };
  app.add_option("FILE", config.inputs, "Input files, read in order; '-' or none reads stdin")
      ->type_name("")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  takes(app.add_option("--size", size, "Close a batch when it holds N records [1000]")->type_name("N"),
        "a whole number of at least 1");
  takes(app.add_option("--interval", interval,
                       "Close a batch when its oldest record is DUR old; a bare number is seconds; 0 = off [500ms]")
            ->type_name("DUR"),
        kDurationForms);
  takes(app.add_option("--max-bytes", max_bytes,
                       "Largest batch as written or sent, newline included (K/M/G = KiB/MiB/GiB) [8M]")
            ->type_name("SIZE"),
        kSizeForms);
  takes(app.add_option("--format", format,
                       "Batch body: array ([r1,r2] and a newline), ndjson (each record and a newline) or bulk "
                       "(Elasticsearch _bulk: an action line before each) [array]")
            ->type_name("FORMAT"),
        "array, ndjson or bulk");
  takes(app.add_option("--wrap", wrap, "Put the array where @ stands in PREFIX@SUFFIX, e.g. '{\"events\":@}'")
            ->type_name("PREFIX@SUFFIX"),
        "JSON with @ where the array goes, e.g. '{\"events\":@}'");
  takes(app.add_option("--bulk-action", bulk_action,
                       "--format bulk's action line; {record_id} gives a stable id [{\"index\":{}}]")
            ->type_name("JSON"),
        "a JSON object such as '{\"create\":{\"_id\":\"{record_id}\"}}'");
  takes(app.add_option("--input", input_format,
                       "json: each line is a JSON value; text: each line is a record as a JSON string [json]")
             ->type_name("FORMAT"),
        "json or text");
  takes(app.add_option("--on-invalid", on_invalid,
                       "On an invalid line: skip (report, exit 1), fail (exit 3), quote (send as a JSON string) [skip]")
            ->type_name("MODE"),
        "skip, fail or quote");
  takes(app.add_option("--max-buffer", max_buffer, "Hold at most SIZE of records read but not yet delivered [64M]")
            ->type_name("SIZE"),
        kSizeForms);
  takes(app.add_option("--on-full", on_full,
                       "When --max-buffer is full: block (stop reading) or drop (new records, exit 4) [block]")
            ->type_name("MODE"),
        "block or drop");
  takes(app.add_option("--threads", threads, "Validate on N threads; 1 = on the loop's own [online CPUs, at most 4]")
            ->type_name("N"),
        "a whole number of at least 1");
  app.add_flag("--stats{human}", stats, "Print a summary on stderr at the end; --stats=json: one JSON object")
      ->type_name("[=json]");
  app.add_flag("--progress", config.progress,
               "Show progress on stderr: a status line on a terminal, else a line every 10s");
  takes(app.add_option("--metrics-file", config.metrics_file,
                       "Write Prometheus metrics to FILE every 5s and at exit, atomically; not an input")
            ->type_name("FILE"),
        "a file name");
  app.add_flag("-q,--quiet", config.quiet, "Do not report invalid lines and retries one by one");
  takes(app.add_option("--checkpoint", config.checkpoint,
                       "Keep in FILE how far each input file was delivered; start there next time (not stdin)")
            ->type_name("FILE"),
        "a file name");
  app.add_flag("-F,--follow", config.follow,
               "Keep reading files as they grow, as tail -F does, across rotation and truncation");

  std::vector<CLI::Option*> delivery, http;
  auto* exec = takes(app.add_option("--exec", config.exec_command,
                                    "Run '/bin/sh -c CMD' once per batch, the batch on its stdin; a pipeline's "
                                    "status is its last command's (see batchpipe(1))")
                         ->type_name("CMD"),
                     "a shell command");
  auto* post = takes(app.add_option("--post", config.post_urls,
                                    "Send each batch to an http:// or https:// URL ({batch_id}, {batch} and "
                                    "{attempt} are filled in, also in -H); several: round-robin over those that answer")
                         ->type_name("URL")
                         ->expected(1)
                         ->allow_extra_args(false)  // `--post URL FILE`: FILE is an input, not a second URL
                         ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll),
                     "an http:// or https:// URL");
  http.push_back(takes(app.add_option("-H,--header", headers,
                                      "Add a request header; @FILE reads one a line; not Idempotency-Key")
                           ->type_name("'NAME: VALUE'|@FILE")
                           ->expected(1)
                           ->allow_extra_args(false)  // `-H 'A: b' FILE`: FILE is an input, not a header
                           ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll),
                       "'Name: value' or @FILE"));
  http.push_back(takes(app.add_option("--bisect-on", bisect_on,
                                      "Split a batch refused with these HTTP statuses until the bad records are "
                                      "alone, e.g. 400,422 [off; 413 always splits]")
                           ->type_name("LIST"),
                       "HTTP statuses such as 400,422"));
  http.push_back(takes(app.add_option("--method", method, "HTTP method: POST or PUT [POST]")->type_name("METHOD"),
                       "POST or PUT"));
  http.push_back(takes(app.add_option("--compress", compress, "Compress request bodies: gzip")->type_name("METHOD"),
                       "gzip"));
  http.push_back(takes(app.add_option("--connect-timeout", connect_timeout, "Limit on connecting [10s]")
                           ->type_name("DUR"),
                       kDurationForms));
  http.push_back(takes(app.add_option("--cacert", config.cacert, "Trust the CA certificates in FILE (PEM)")
                           ->type_name("FILE"),
                       "a file of PEM certificates"));
  http.push_back(app.add_flag("--insecure", config.insecure, "Do not verify TLS certificates (warns)"));
  delivery.push_back(takes(app.add_option("-j,--parallel", parallel,
                                          "Deliver up to N batches at once, committed in input order [1]; auto[:MAX]: "
                                          "adapt to the receiver, from 1 up to MAX [32]")
                               ->type_name("N|auto[:MAX]"),
                           "a whole number from 1 to 256, or auto, or auto:MAX"));
  delivery.push_back(takes(app.add_option("--rate", rate,
                                          "Start at most N requests a second (N/s) or a minute (N/m), evenly "
                                          "spaced, over all workers; retries count [no limit]")
                               ->type_name("N/s|N/m"),
                           "a rate such as 20/s or 600/m"));
  delivery.push_back(takes(app.add_option("--permanent-status", permanent_status,
                                          "Give a batch up without retries on these exit statuses (--exec) or "
                                          "HTTP statuses (--post), e.g. 3 or 409,422")
                               ->type_name("LIST"),
                           "statuses such as 3 or 409,500-502"));
  delivery.push_back(takes(app.add_option("--retryable-status", retryable_status,
                                          "Retry on these statuses, even ones that stop the run (127, 404)")
                               ->type_name("LIST"),
                           "statuses such as 3 or 409,500-502"));
  delivery.push_back(app.add_flag("-v,--verbose", config.verbose, "Log every delivery attempt on stderr"));
  delivery.push_back(app.add_flag("--map", config.map,
                                  "The answer is a JSON array, one element per record: print each record's, in order"));
  delivery.push_back(app.add_flag("--map-with-input", config.map_with_input,
                                  "As --map, printing {\"in\":RECORD,\"out\":ANSWER} for each record"));
  delivery.push_back(takes(app.add_option("--retries", retries,
                                          "Retries after a failed attempt; inf = until delivered, usually with "
                                          "--retry-max-time [5]")
                               ->type_name("N|inf"),
                           "a whole number, 0 for none, or inf"));
  delivery.push_back(takes(app.add_option("--retry-delay", retry_delay, "First retry delay, doubled each time [500ms]")
                               ->type_name("DUR"),
                           kDurationForms));
  delivery.push_back(takes(app.add_option("--retry-max-delay", retry_max_delay, "Longest delay between retries [30s]")
                               ->type_name("DUR"),
                           kDurationForms));
  delivery.push_back(takes(app.add_option("--retry-max-time", retry_max_time,
                                          "Give a batch up after this long; 0 = no limit [0]")
                               ->type_name("DUR"),
                           kDurationForms));
  delivery.push_back(takes(app.add_option("--timeout", timeout,
                                          "Limit on each attempt; 0 = none [--exec: 0, --post: 30s]")
                               ->type_name("DUR"),
                           kDurationForms));
  delivery.push_back(takes(app.add_option("--on-error", on_error,
                                          "After retries run out: continue (exit 4) or stop (exit 5) [continue]")
                               ->type_name("MODE"),
                           "continue or stop"));
  delivery.push_back(takes(app.add_option("--dead-letter", config.dead_letter,
                                          "Append undelivered records to FILE as NDJSON (mode 0600); not an input; yours alone")
                               ->type_name("FILE"),
                           "a file name"));
  delivery.push_back(takes(app.add_option("--grace", grace,
                                          "After SIGTERM/SIGINT/SIGHUP, time left for deliveries under way [10s]")
                               ->type_name("DUR"),
                           kDurationForms));

  for (CLI::Option* opt : delivery) opt->group("Delivery (with --exec or --post)");
  for (CLI::Option* opt : http) opt->group("HTTP (with --post)");
  exec->group("Sinks (default: stdout)");
  post->group("Sinks (default: stdout)");

  try {
    app.parse(argc, argv);
    if (!config.post_urls.empty()) config.post_url = config.post_urls.front();
    if (exec->count() && post->count())
      throw BadValue{"--exec and --post cannot be used together: batches go to one place"};
    config.batch_size = to_count("--size", size);
    config.interval = to_duration("--interval", interval);
    if (bare_number(interval) && config.interval >= std::chrono::seconds(60))
      result.warnings.push_back(
          fmt::format("--interval {}: {} seconds; did you mean {}ms?", interval, interval, interval));
    config.max_bytes = to_size("--max-bytes", max_bytes, kMinMaxBytes);
    on_invalid = to_mode("--on-invalid", on_invalid, {"skip", "fail", "quote"});
    config.on_invalid = on_invalid == "fail"    ? InvalidMode::Fail
                        : on_invalid == "quote" ? InvalidMode::Quote
                                                : InvalidMode::Skip;
    for (CLI::Option* opt : delivery)
      if (opt->count() && !config.delivers())
        throw BadValue{fmt::format("{}: only applies with --exec or --post", opt->get_name())};
    for (CLI::Option* opt : http)
      if (opt->count() && config.post_url.empty())
        throw BadValue{fmt::format("{}: only applies with --post", opt->get_name())};
    if (exec->count() && config.exec_command.empty()) throw BadValue{"--exec: the command is empty"};
    if (post->count()) {
      bool any_https = false;
      for (size_t i = 0; i < config.post_urls.size(); ++i) {
        const std::string& u = config.post_urls[i];
        if (std::find(config.post_urls.begin(), config.post_urls.begin() + static_cast<long>(i), u) !=
            config.post_urls.begin() + static_cast<long>(i))
          throw BadValue{fmt::format("--post: {} is given twice", u)};
        // Fields are checked filled in, as they will be sent.
        UrlCheck url = check_post_url(expand_template(u, {"0123456789abcdef-1", 1, 1}));
        if (!url.error.empty()) throw BadValue{url.error};
        result.warnings.insert(result.warnings.end(), url.warnings.begin(), url.warnings.end());
        any_https = any_https || url.https;
      }
      if (!any_https && config.insecure) {
        result.warnings.push_back("--insecure: has no effect on an http:// URL, which has no TLS");
        config.insecure = false;  // and no "certificates are not verified" warning either
      }
      if (!any_https && !config.cacert.empty())
        result.warnings.push_back("--cacert: has no effect on an http:// URL, which has no TLS");
    }
    if (app.count("--metrics-file") && config.metrics_file.empty()) throw BadValue{"--metrics-file: the path is empty"};
    if (app.count("--checkpoint") && config.checkpoint.empty()) throw BadValue{"--checkpoint: the path is empty"};
    config.headers = to_headers(headers, config.secrets);
    if (!config.cacert.empty()) check_cacert(config.cacert);
    if (compress.size()) to_mode("--compress", compress, {"gzip"});
    config.gzip = compress == "gzip";
    config.connect_timeout = to_duration("--connect-timeout", connect_timeout);
    config.retry.retries = to_retries(retries);
    config.retry.delay = to_duration("--retry-delay", retry_delay);
    config.retry.max_delay = to_duration("--retry-max-delay", retry_max_delay);
    config.retry.max_time = to_duration("--retry-max-time", retry_max_time);
    config.timeout = timeout.empty() ? (config.post_url.empty() ? Duration::zero() : std::chrono::seconds(30))
                                     : to_duration("--timeout", timeout);
    config.grace = to_duration("--grace", grace);
    config.stop_on_error = to_mode("--on-error", on_error, {"continue", "stop"}) == "stop";
    if (parallel == "auto" || parallel.starts_with("auto:")) {
      config.parallel_auto = true;
      config.parallel = parallel == "auto" ? kDefaultAutoMax
                                           : static_cast<uint32_t>(std::min<uint64_t>(
                                                 to_count("--parallel auto:MAX", parallel.substr(5)), kMaxParallel + 1));
    } else {
      config.parallel = static_cast<uint32_t>(std::min<uint64_t>(to_count("--parallel", parallel), kMaxParallel + 1));
    }
    if (!rate.empty()) config.rate = to_rate(rate);
    config.status_rules = to_status_rules(permanent_status, retryable_status, !config.exec_command.empty());
    if (app.count("--bisect-on") && bisect_on.empty())
      throw BadValue{"--bisect-on: expected HTTP statuses such as 400,422, got ''"};
    if (!bisect_on.empty()) {
      std::string error;
      auto list = StatusList::parse(bisect_on, 400, 599, error);
      if (!list) throw BadValue{fmt::format("--bisect-on: {} (HTTP statuses of refusals, 400 to 599)", error)};
      config.bisect_on = std::move(*list);
    }
    if (config.parallel > kMaxParallel)
      throw BadValue{fmt::format("--parallel: {} is too large (at most {})", parallel, kMaxParallel)};
    config.max_buffer = to_size("--max-buffer", max_buffer, 1 << 20, uint64_t{1} << 40, "1T");
    // The default --max-bytes (8M) follows a smaller --max-buffer; a value
    // the user gave must fit in it.
    if (!app.count("--max-bytes") && config.max_bytes > config.max_buffer) config.max_bytes = config.max_buffer;
    if (config.max_bytes > config.max_buffer)
      throw BadValue{fmt::format("--max-bytes {} is larger than --max-buffer {}: a batch must fit in the buffer; "
                                 "raise --max-buffer or lower --max-bytes",
                                 max_bytes, max_buffer)};
    config.drop_when_full = to_mode("--on-full", on_full, {"block", "drop"}) == "drop";
    auto body = make_body_format(to_mode("--format", format, {"array", "ndjson", "bulk"}), wrap, bulk_action);
    if (auto* e = std::get_if<std::string>(&body)) throw BadValue{*e};
    config.format = std::get<BodyFormat>(std::move(body));
    if (config.format.max_record_size(config.max_bytes) == 0)
      throw BadValue{fmt::format("--max-bytes {} cannot hold a record with {} ({} bytes); give at least {}", max_bytes,
                                 config.format.frame_words(), config.format.body_size(1, 0),
                                 config.format.body_size(1, 1))};
    std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::toupper(c); });
    config.method = to_mode("--method", method, {"POST", "PUT"});
    if (config.map_with_input) config.map = true;
    if (config.map && config.format.kind() == FormatKind::Bulk)
      throw BadValue{"--map: a _bulk answer is not one element per record; use --format array or ndjson"};
    config.text_input = to_mode("--input", input_format, {"json", "text"}) == "text";
    if (!stats.empty()) to_mode("--stats", stats, {"human", "json"});
    config.stats = stats == "json" ? StatsFormat::Json : stats == "human" ? StatsFormat::Human : StatsFormat::None;
    config.threads = threads.empty() ? default_threads() : static_cast<uint32_t>(to_count("--threads", threads));
    if (config.threads > kMaxThreads)
      throw BadValue{fmt::format("--threads: {} is too large (at most {})", threads, kMaxThreads)};
    if (config.inputs.empty()) config.inputs.push_back("-");
    if (config.follow && config.inputs == std::vector<std::string>{"-"})
      result.warnings.push_back("--follow: stdin is read to its end as always; --follow follows files");
    if (!config.checkpoint.empty() && std::find(config.inputs.begin(), config.inputs.end(), "-") != config.inputs.end())
      result.warnings.push_back("--checkpoint: stdin cannot be resumed: what it sends is read once, and keeping it "
                                "until delivered is up to its producer");
    if (!config.dead_letter.empty()) check_dead_letter_not_input(config.dead_letter, config.inputs);
    if (std::string clash = check_output_files(config); !clash.empty()) throw BadValue{clash};
  } catch (const CLI::CallForHelp&) {
    result.out = app.help();
    result.warnings.clear();
    return result;
  } catch (const CLI::CallForVersion&) {
    result.out = "batchpipe " BATCHPIPE_VERSION "\n";
    result.warnings.clear();
    return result;
  } catch (const CLI::ParseError& e) {
    result.status = ExitStatus::Usage;
    result.err = fmt::format("{} (try 'batchpipe --help')", usage_message(app, e, forms));
    result.warnings.clear();
    return result;
  } catch (const BadValue& e) {
    result.status = ExitStatus::Usage;
    result.err = e.message;
    result.warnings.clear();
    return result;
  }
  result.config = std::move(config);
  return result;
}

}  // namespace batchpipe
