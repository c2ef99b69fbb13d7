#include "cli/output_clash.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>

#include "spool/segment_plan.h"

namespace batchpipe {

std::string find_output_clash(const std::vector<NamedFile>& outputs, const std::vector<NamedFile>& inputs) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    const NamedFile& out = outputs[i];
    for (const NamedFile& in : inputs) {
      if (!out.key.same_file(in.key)) continue;
      if (!out.if_input.empty()) return fmt::format("{}: it is also {}; {}", out.what, in.what, out.if_input);
      return fmt::format("{} is also {}: batchpipe would write over what it reads; give the file batchpipe "
                         "writes a name of its own",
                         out.what, in.what);
    }
    for (size_t j = 0; j < i; ++j)
      if (out.key.same_file(outputs[j].key))
        return fmt::format("{} and {} are the same file: each would destroy what the other wrote; give each a "
                           "name of its own",
                           outputs[j].what, out.what);
  }
  return "";
}

bool in_directory(const std::string& path, const std::string& dir) {
  auto trimmed = [](std::string p) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return p;
  };
  std::filesystem::path file(trimmed(path));
  const std::string parent = file.has_parent_path() ? file.parent_path().string() : std::string(".");
  const std::string d = trimmed(dir);
  struct stat a {}, b {};
  bool parent_exists = ::stat(parent.c_str(), &a) == 0, dir_exists = ::stat(d.c_str(), &b) == 0;
  if (parent_exists && dir_exists) return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
  if (parent_exists || dir_exists) return false;
  return key_of_path(parent).same_file(key_of_path(d));
}

std::string check_output_files(const Config& config) {
  std::vector<NamedFile> outputs;
  std::vector<std::string> paths;  ///< of outputs, by index
  auto output = [&](std::string what, const std::string& path, std::string if_input = {}) {
    outputs.push_back({std::move(what), key_of_path(path), std::move(if_input)});
    paths.push_back(path);
  };
  if (!config.dead_letter.empty())
    output("--dead-letter " + config.dead_letter, config.dead_letter,
           fmt::format("replaying a dead-letter file into itself never ends: move it aside first (mv {} "
                       "replay.ndjson) and read that",
                       config.dead_letter));
  if (!config.dead_letter_reasons.empty())
    output("--dead-letter-reasons " + config.dead_letter_reasons, config.dead_letter_reasons);
  if (!config.checkpoint.empty()) {
    output("--checkpoint " + config.checkpoint, config.checkpoint);
    std::string lock = config.checkpoint + ".lock";
    output(fmt::format("the checkpoint's lock {}", lock), lock);
  }
  if (!config.metrics_file.empty()) output("--metrics-file " + config.metrics_file, config.metrics_file);
  if (!config.spool.empty()) {
    // The spool owns its directory: it deletes what is named like a
    // segment there, so nothing else batchpipe writes may live in it.
    for (size_t i = 0; i < outputs.size(); ++i)
      if (in_directory(paths[i], config.spool))
        return fmt::format("{} is inside the --spool directory {}, which the spool owns (it deletes its "
                           "segments once delivered): put it elsewhere",
                           outputs[i].what, config.spool);
    // The spool's state file, and its segments as they are now (a segment
    // to come is named after a stream position no other file has).
    output(fmt::format("the --spool state file {}/state", config.spool), config.spool + "/state");
    if (config.dead_letter.empty()) {
      std::string refused = spool_refused_path(config.spool);
      output(fmt::format("the --spool refused file {}", refused), refused,
             fmt::format("move it aside first (mv {} replay.ndjson) and read that", refused));
    }
    if (DIR* d = ::opendir(config.spool.c_str())) {
      while (dirent* e = ::readdir(d))
        if (parse_segment_name(e->d_name))
          output(fmt::format("the --spool segment {}/{}", config.spool, e->d_name),
                 fmt::format("{}/{}", config.spool, e->d_name));
      ::closedir(d);
    }
  }
  if (outputs.empty()) return "";
  std::vector<NamedFile> inputs;
  for (const std::string& input : config.inputs)
    inputs.push_back(input == "-" ? NamedFile{"the standard input", key_of_fd(STDIN_FILENO)}
                                  : NamedFile{"the input " + input, key_of_path(input)});
  return find_output_clash(outputs, inputs);
}

}  // namespace batchpipe
