// Command-line parsing: argv in, a Config (or an exit) out. CLI11 stays in cli.cc.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/config.h"
#include "base/exit_status.h"

namespace batchpipe {

struct CliResult {
  std::optional<Config> config;  ///< set when the run should go ahead
  ExitStatus status = ExitStatus::Success;  ///< exit status when it should not
  std::string out;  ///< text for stdout (--help, --version)
  std::string err;  ///< one-line usage error for stderr, without "batchpipe: "
  std::vector<std::string> warnings;  ///< for stderr (unless -q) when the run goes ahead, without "batchpipe: "
};

CliResult parse_cli(int argc, const char* const* argv);

}  // namespace batchpipe
