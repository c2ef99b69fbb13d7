// The command line as a table: every option batchpipe takes, written once.
//
// cli.cc registers the options with the parser from it, --help is drawn from
// it, and the "only applies with --exec or --post" checks read it; the tests
// check the man page, the completions and README against it. Adding an option
// is adding a row here and converting its value in cli.cc.
#pragma once

#include <span>
#include <string_view>
#include <vector>

namespace batchpipe {

/// How a size or a duration is written, for messages.
inline constexpr const char* kSizeForms = "a size such as 65536, 64K, 8M or 1G";
inline constexpr const char* kDurationForms = "a duration such as 250ms, 2s, 1.5s or 5m (a bare number is seconds)";

/// What follows an option on the command line.
enum class ValueKind {
  None,      ///< a flag: -q, --insecure
  Optional,  ///< a flag that may be given a value after '=' only: --stats, --stats=json
  One,       ///< one value, as the next argument or after '='; given again, the last one counts
  Repeated,  ///< one value each time; every one is kept, in order (-H, --post)
};

/// Where an option sits in --help, which is also which sink it needs.
enum class Section {
  General,   ///< any run
  Sink,      ///< --exec and --post: where batches go instead of stdout
  Delivery,  ///< only with --exec or --post
  Http,      ///< only with --post
};

/// One option. Strings are empty, never null, when there is nothing to say.
struct OptionRow {
  std::string_view names;        ///< "-j,--parallel": the short name first, as CLI11 takes them
  ValueKind kind = ValueKind::None;
  std::string_view placeholder;  ///< "N", "DUR", "URL" (for Optional: "=json", shown as --stats[=json])
  std::string_view fallback;     ///< the value when the option is not given, as a user would write it,
                                 ///< converted like one; "" = none (Optional: the value the bare flag means)
  std::string_view shown_default;  ///< --help's [...] when it is not the fallback ("online CPUs, at most 4")
  Section section = Section::General;
  std::string_view help;         ///< one line for --help, without the default
  std::string_view expects;      ///< what the value looks like, for "missing value; expected ..."
};

/// Every option, in --help's order within each section. FILE operands and
/// -h/--help, -V/--version (which CLI11 handles) are not in it.
std::span<const OptionRow> option_table();

/// The row of `name` ("--size", "-j" or "--parallel"), or nullptr.
const OptionRow* find_option(std::string_view name);

/// The long name of `row` ("--parallel" of "-j,--parallel").
std::string_view long_name(const OptionRow& row);

/// Every name of `row`, as typed: {"-j", "--parallel"}.
std::vector<std::string_view> option_names(const OptionRow& row);

/// The heading of `section` in --help.
std::string_view section_title(Section section);

/// What --help shows in brackets after the help text, or "" for nothing.
std::string_view shown_default(const OptionRow& row);

}  // namespace batchpipe
