#include "cli.h"

#include <charconv>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace batchpipe {
namespace {

constexpr const char* kFooter = R"(Exit status: 0 all delivered, 1 invalid lines skipped, 2 usage error,
3 stopped at an invalid line, 4 records undelivered, 6 an input file could not be read,
130/143 interrupted by SIGINT/SIGTERM. See batchpipe(1) for details.)";

/// A flag's value that the parser accepted as text but that does not mean anything.
struct BadValue {
  std::string message;
};

uint64_t to_count(const std::string& flag, const std::string& text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0)
    throw BadValue{fmt::format("{}: expected a whole number of at least 1, got '{}'", flag, text)};
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
  app.add_flag("-q,--quiet", config.quiet, "Do not report invalid lines one by one");

  try {
    app.parse(argc, argv);
    config.batch_size = to_count("--size", size);
    config.interval = to_duration("--interval", interval);
    config.max_bytes = to_size("--max-bytes", max_bytes, kMinMaxBytes);
    config.on_invalid = on_invalid == "fail"    ? InvalidMode::Fail
                        : on_invalid == "quote" ? InvalidMode::Quote
                                                : InvalidMode::Skip;
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
