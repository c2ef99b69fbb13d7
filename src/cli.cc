#include "cli.h"

#include <charconv>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace batchpipe {
namespace {

constexpr const char* kFooter = R"(Exit status: 0 all delivered, 1 invalid lines skipped, 2 usage error,
3 stopped at an invalid line, 4 records undelivered, 5 stopped after a delivery failure,
6 an input file could not be read, 130/143 interrupted by SIGINT/SIGTERM.
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

}  // namespace

CliResult parse_cli(int argc, const char* const* argv) {
  CliResult result;
  Config config;
  std::string size = "1000", interval = "500ms", max_bytes = "8M", on_invalid = "skip";
  std::string retries = "5", retry_delay = "500ms", retry_max_delay = "30s", retry_max_time = "0",
              timeout = "0", grace = "10s", on_error = "continue";

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

  std::vector<CLI::Option*> delivery;
  app.add_option("--exec", config.exec_command,
                 "Run '/bin/sh -c CMD' once per batch, the batch on its stdin")
      ->type_name("CMD");
  delivery.push_back(app.add_option("--retries", retries, "Retries after a failed attempt [5]")->type_name("N"));
  delivery.push_back(app.add_option("--retry-delay", retry_delay, "First retry delay, doubled each time [500ms]")
                         ->type_name("DUR"));
  delivery.push_back(app.add_option("--retry-max-delay", retry_max_delay, "Longest delay between retries [30s]")
                         ->type_name("DUR"));
  delivery.push_back(app.add_option("--retry-max-time", retry_max_time,
                                    "Give a batch up after this long; 0 = no limit [0]")
                         ->type_name("DUR"));
  delivery.push_back(app.add_option("--timeout", timeout, "Limit on each attempt; 0 = none [0]")->type_name("DUR"));
  delivery.push_back(app.add_option("--on-error", on_error,
                                    "After retries run out: continue (exit 4) or stop (exit 5) [continue]")
                         ->type_name("MODE")
                         ->check(CLI::IsMember({"continue", "stop"})));
  delivery.push_back(app.add_option("--dead-letter", config.dead_letter,
                                    "Append undelivered records to FILE as NDJSON (mode 0600)")
                         ->type_name("FILE"));
  delivery.push_back(app.add_option("--grace", grace,
                                    "After SIGTERM/SIGINT, time left for deliveries under way [10s]")
                         ->type_name("DUR"));

  try {
    app.parse(argc, argv);
    config.batch_size = to_count("--size", size);
    config.interval = to_duration("--interval", interval);
    config.max_bytes = to_size("--max-bytes", max_bytes, kMinMaxBytes);
    config.on_invalid = on_invalid == "fail"    ? InvalidMode::Fail
                        : on_invalid == "quote" ? InvalidMode::Quote
                                                : InvalidMode::Skip;
    if (!config.delivers()) {
      for (CLI::Option* opt : delivery)
        if (opt->count()) throw BadValue{fmt::format("{}: only applies with --exec", opt->get_name())};
    }
    if (app.count("--exec") && config.exec_command.empty())
      throw BadValue{"--exec: the command is empty"};
    config.retry.retries = static_cast<uint32_t>(std::min<uint64_t>(to_count("--retries", retries, 0), 1000000));
    config.retry.delay = to_duration("--retry-delay", retry_delay);
    config.retry.max_delay = to_duration("--retry-max-delay", retry_max_delay);
    config.retry.max_time = to_duration("--retry-max-time", retry_max_time);
    config.timeout = to_duration("--timeout", timeout);
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
