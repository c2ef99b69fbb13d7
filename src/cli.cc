#include "cli.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>

#include <unistd.h>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "sinks/reply_quote.h"

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

uint64_t to_count(const std::string& flag, const std::string& text, uint64_t minimum = 1) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < minimum)
    throw BadValue{fmt::format("{}: expected a whole number of at least {}, got '{}'", flag, minimum, text)};
  return value;
}

Duration to_duration(const std::string& flag, const std::string& text) {
  auto d = parse_duration(text);
  if (!d) throw BadValue{fmt::format("{}: expected a duration such as 250ms, 2s, 1.5s or 5m, got '{}'", flag, text)};
  return *d;
}

uint64_t to_size(const std::string& flag, const std::string& text, uint64_t minimum) {
  auto s = parse_size(text);
  if (!s) throw BadValue{fmt::format("{}: expected a size such as 65536, 64K, 8M or 1G, got '{}'", flag, text)};
  if (*s < minimum) throw BadValue{fmt::format("{}: must be at least {} bytes, got '{}'", flag, minimum, text)};
  if (*s > kMaxMaxBytes) throw BadValue{fmt::format("{}: must be at most 1G, got '{}'", flag, text)};
  return *s;
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
    std::ifstream in(path);
    if (!in) throw BadValue{fmt::format("--header: cannot read {}: {}", path, std::strerror(errno))};
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
      out.push_back(to_header(line, fmt::format(" on line {} of {}", n, path)));
      note_secret(out.back(), true, secrets);
    }
  }
  return out;
}

}  // namespace

CliResult parse_cli(int argc, const char* const* argv) {
  CliResult result;
  Config config;
  std::string size = "1000", interval = "500ms", max_bytes = "8M", on_invalid = "skip";
  std::string retries = "5", retry_delay = "500ms", retry_max_delay = "30s", retry_max_time = "0",
              timeout, grace = "10s", on_error = "continue", compress, connect_timeout = "10s";
  std::vector<std::string> headers;

  CLI::App app{"Read NDJSON records and deliver them in batches, each a JSON array on one line.",
               "batchpipe"};
  app.get_formatter()->column_width(24);
  app.footer(kFooter);
  app.set_version_flag("-V,--version", "batchpipe " BATCHPIPE_VERSION);
  app.add_option("FILE", config.inputs, "Input files, read in order; '-' or none reads stdin")
      ->type_name("");
  app.add_option("--size", size, "Close a batch when it holds N records [1000]")->type_name("N");
  app.add_option("--interval", interval,
                 "Close a batch when its oldest record is DUR old; 0 = off [500ms]")
      ->type_name("DUR");
  app.add_option("--max-bytes", max_bytes,
                 "Largest encoded batch, brackets included (K/M/G = KiB/MiB/GiB) [8M]")
      ->type_name("SIZE");
  app.add_option("--on-invalid", on_invalid,
                 "On an invalid line: skip (report, exit 1), fail (exit 3), quote (send as a JSON string) [skip]")
      ->type_name("MODE")
      ->check(CLI::IsMember({"skip", "fail", "quote"}));
  app.add_flag("--stats", config.stats, "Print a summary on stderr at the end");
  app.add_flag("-q,--quiet", config.quiet, "Do not report invalid lines and retries one by one");

  std::vector<CLI::Option*> delivery, http;
  auto* exec = app.add_option("--exec", config.exec_command,
                              "Run '/bin/sh -c CMD' once per batch, the batch on its stdin")
                   ->type_name("CMD");
  auto* post = app.add_option("--post", config.post_url, "POST each batch to an http:// or https:// URL")
                   ->type_name("URL");
  exec->excludes(post);
  http.push_back(app.add_option("-H,--header", headers, "Add a request header; @FILE reads one a line")
                     ->type_name("'NAME: VALUE'|@FILE")
                     ->expected(1)
                     ->allow_extra_args(false)  // `-H 'A: b' FILE`: FILE is an input, not a header
                     ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll));
  http.push_back(app.add_option("--compress", compress, "Compress request bodies: gzip")
                     ->type_name("METHOD")
                     ->check(CLI::IsMember({"gzip"})));
  http.push_back(app.add_option("--connect-timeout", connect_timeout, "Limit on connecting [10s]")->type_name("DUR"));
  http.push_back(app.add_option("--cacert", config.cacert, "Trust the CA certificates in FILE")->type_name("FILE"));
  http.push_back(app.add_flag("--insecure", config.insecure, "Do not verify TLS certificates (warns)"));
  delivery.push_back(app.add_flag("-v,--verbose", config.verbose, "Log every delivery attempt on stderr"));
  delivery.push_back(app.add_option("--retries", retries, "Retries after a failed attempt [5]")->type_name("N"));
  delivery.push_back(app.add_option("--retry-delay", retry_delay, "First retry delay, doubled each time [500ms]")
                         ->type_name("DUR"));
  delivery.push_back(app.add_option("--retry-max-delay", retry_max_delay, "Longest delay between retries [30s]")
                         ->type_name("DUR"));
  delivery.push_back(app.add_option("--retry-max-time", retry_max_time,
                                    "Give a batch up after this long; 0 = no limit [0]")
                         ->type_name("DUR"));
  delivery.push_back(app.add_option("--timeout", timeout,
                                    "Limit on each attempt; 0 = none [--exec: 0, --post: 30s]")
                         ->type_name("DUR"));
  delivery.push_back(app.add_option("--on-error", on_error,
                                    "After retries run out: continue (exit 4) or stop (exit 5) [continue]")
                         ->type_name("MODE")
                         ->check(CLI::IsMember({"continue", "stop"})));
  delivery.push_back(app.add_option("--dead-letter", config.dead_letter,
                                    "Append undelivered records to FILE as NDJSON (mode 0600)")
                         ->type_name("FILE"));
  delivery.push_back(app.add_option("--grace", grace,
                                    "After SIGTERM/SIGINT/SIGHUP, time left for deliveries under way [10s]")
                         ->type_name("DUR"));

  for (CLI::Option* opt : delivery) opt->group("Delivery (with --exec or --post)");
  for (CLI::Option* opt : http) opt->group("HTTP (with --post)");
  exec->group("Sinks (default: stdout)");
  post->group("Sinks (default: stdout)");

  try {
    app.parse(argc, argv);
    config.batch_size = to_count("--size", size);
    config.interval = to_duration("--interval", interval);
    config.max_bytes = to_size("--max-bytes", max_bytes, kMinMaxBytes);
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
    if (post->count() && config.post_url.empty()) throw BadValue{"--post: the URL is empty"};
    config.headers = to_headers(headers, config.secrets);
    if (!config.cacert.empty() && ::access(config.cacert.c_str(), R_OK) != 0)
      throw BadValue{fmt::format("--cacert: cannot read {}: {}", config.cacert, std::strerror(errno))};
    config.gzip = compress == "gzip";
    config.connect_timeout = to_duration("--connect-timeout", connect_timeout);
    config.retry.retries = static_cast<uint32_t>(std::min<uint64_t>(to_count("--retries", retries, 0), 1000000));
    config.retry.delay = to_duration("--retry-delay", retry_delay);
    config.retry.max_delay = to_duration("--retry-max-delay", retry_max_delay);
    config.retry.max_time = to_duration("--retry-max-time", retry_max_time);
    config.timeout = timeout.empty() ? (config.post_url.empty() ? Duration::zero() : std::chrono::seconds(30))
                                     : to_duration("--timeout", timeout);
    config.grace = to_duration("--grace", grace);
    config.stop_on_error = on_error == "stop";
  } catch (const CLI::CallForHelp&) {
    result.out = app.help();
    return result;
  } catch (const CLI::CallForVersion&) {
    result.out = "batchpipe " BATCHPIPE_VERSION "\n";
    return result;
  } catch (const CLI::ParseError& e) {
    result.status = ExitStatus::Usage;
    result.err = fmt::format("{} (try 'batchpipe --help')", e.what());
    return result;
  } catch (const BadValue& e) {
    result.status = ExitStatus::Usage;
    result.err = e.message;
    return result;
  }
  if (config.inputs.empty()) config.inputs.push_back("-");
  result.config = std::move(config);
  return result;
}

}  // namespace batchpipe
