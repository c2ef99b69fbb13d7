#include <catch2/catch.hpp>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/option_table.h"

// The table against --help; tests/e2e/test_usage.py (DocsTest) checks the man
// page, the completions and README against --help, and so against the table.

using namespace batchpipe;

namespace {

std::string help_text() {
  const char* argv[] = {"batchpipe", "--help"};
  return parse_cli(2, argv).out;
}

/// The names at the start of each option line of --help ("  -j,--parallel N ...").
std::set<std::string> names_in_help(const std::string& help) {
  std::set<std::string> names;
  static const std::regex line(R"(^  (-[A-Za-z]|--[a-z][a-z0-9-]*)((,(-[A-Za-z]|--[a-z][a-z0-9-]*))*))");
  static const std::regex name(R"(-[A-Za-z]|--[a-z][a-z0-9-]*)");
  size_t start = 0;
  while (start < help.size()) {
    size_t end = std::min(help.find('\n', start), help.size());
    std::string text = help.substr(start, end - start);
    start = end + 1;
    std::smatch m;
    if (!std::regex_search(text, m, line)) continue;
    std::string head = m[0];
    for (auto it = std::sregex_iterator(head.begin(), head.end(), name); it != std::sregex_iterator(); ++it)
      names.insert(it->str());
  }
  return names;
}

}  // namespace

TEST_CASE("option table: every name is unique and well formed", "[cli]") {
  std::set<std::string> seen;
  static const std::regex well_formed(R"(-[A-Za-z]|--[a-z][a-z0-9-]*)");
  for (const OptionRow& row : option_table()) {
    INFO(row.names);
    CHECK(long_name(row).starts_with("--"));
    for (std::string_view n : option_names(row)) {
      CHECK(std::regex_match(std::string(n), well_formed));
      CHECK(seen.insert(std::string(n)).second);
      CHECK(find_option(n) == &row);
    }
    CHECK_FALSE(row.help.empty());
    bool takes_value = row.kind == ValueKind::One || row.kind == ValueKind::Repeated;
    if (takes_value) CHECK_FALSE(row.expects.empty());
    if (takes_value) CHECK_FALSE(row.placeholder.empty());
    if (row.kind == ValueKind::None) CHECK(row.placeholder.empty());
    if (row.kind == ValueKind::None) CHECK(row.fallback.empty());
  }
  CHECK(find_option("--no-such-option") == nullptr);
}

TEST_CASE("option table: --help lists every option of the table and no other", "[cli]") {
  std::string help = help_text();
  std::set<std::string> table;
  for (const OptionRow& row : option_table())
    for (std::string_view n : option_names(row)) table.insert(std::string(n));
  CHECK(names_in_help(help) == table);
}

TEST_CASE("option table: --help shows each option as the table writes it", "[cli]") {
  std::string help = help_text();
  for (const OptionRow& row : option_table()) {
    INFO(row.names);
    std::string head = "  " + std::string(row.names);
    if (row.kind == ValueKind::Optional) head += "[" + std::string(row.placeholder) + "]";
    if (row.kind == ValueKind::One || row.kind == ValueKind::Repeated) head += " " + std::string(row.placeholder);
    CHECK((help.find("\n" + head + " ") != std::string::npos || help.find("\n" + head + "\n") != std::string::npos));
    CHECK(help.find(std::string(row.help)) != std::string::npos);
    if (!shown_default(row).empty())
      CHECK(help.find(std::string(row.help) + " [" + std::string(shown_default(row)) + "]") != std::string::npos);
  }
  CHECK(help.find("{human}") == std::string::npos);  // CLI11's own spelling of a flag's value
}

TEST_CASE("option table: sections name the sink the options need", "[cli]") {
  std::string help = help_text();
  for (Section s : {Section::General, Section::Sink, Section::Delivery, Section::Http})
    CHECK(help.find("\n" + std::string(section_title(s)) + ":\n") != std::string::npos);
  for (const OptionRow& row : option_table()) {
    if (row.section != Section::Delivery && row.section != Section::Http) continue;
    INFO(row.names);
    std::vector<const char*> argv{"batchpipe", long_name(row).data()};
    std::string value = row.fallback.empty() ? "1" : std::string(row.fallback);
    if (row.kind == ValueKind::One || row.kind == ValueKind::Repeated) argv.push_back(value.c_str());
    CliResult r = parse_cli(static_cast<int>(argv.size()), argv.data());
    std::string needs = row.section == Section::Http ? "--post" : "--exec or --post";
    CHECK(r.err == std::string(long_name(row)) + ": only applies with " + needs);
    if (row.section == Section::Http) {
      argv.push_back("--exec");
      argv.push_back("cat");
      CHECK(parse_cli(static_cast<int>(argv.size()), argv.data()).err ==
            std::string(long_name(row)) + ": only applies with --post");
    }
  }
}

TEST_CASE("option table: the fallbacks are the defaults a run gets", "[cli]") {
  const char* argv[] = {"batchpipe"};
  CliResult r = parse_cli(1, argv);
  REQUIRE(r.config);
  // Config's own initial values (config.h) and the table say the same.
  Config plain;
  CHECK(r.config->batch_size == plain.batch_size);
  CHECK(r.config->interval == plain.interval);
  CHECK(r.config->max_bytes == plain.max_bytes);
  CHECK(r.config->max_buffer == plain.max_buffer);
  CHECK(r.config->on_invalid == plain.on_invalid);
  CHECK(r.config->drop_when_full == plain.drop_when_full);
  CHECK(r.config->text_input == plain.text_input);
  CHECK(r.config->stats == plain.stats);
  CHECK(r.config->method == plain.method);
  CHECK(r.config->connect_timeout == plain.connect_timeout);
  CHECK(r.config->grace == plain.grace);
  CHECK(r.config->parallel == plain.parallel);
  CHECK(r.config->stop_on_error == plain.stop_on_error);
  CHECK(r.config->retry.retries == plain.retry.retries);
  CHECK(r.config->retry.delay == plain.retry.delay);
  CHECK(r.config->retry.max_delay == plain.retry.max_delay);
  CHECK(r.config->retry.max_time == plain.retry.max_time);
}
