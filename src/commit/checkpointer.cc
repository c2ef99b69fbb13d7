#include "commit/checkpointer.h"

#include <unistd.h>

#include <climits>
#include <map>

#include "base/diagnostics.h"

namespace batchpipe {
namespace {

std::string current_directory() {
  char buf[PATH_MAX];
  return ::getcwd(buf, sizeof buf) ? std::string(buf) : std::string("/");
}

}  // namespace

std::unique_ptr<Checkpointer> Checkpointer::open(const std::string& path, const std::vector<std::string>& inputs,
                                                 std::string& error) {
  std::optional<CheckpointFile> file = CheckpointFile::open(path, error);
  if (!file) return nullptr;
  std::string cwd = current_directory();
  std::vector<std::string> paths;
  for (const std::string& input : inputs) paths.push_back(input == "-" ? std::string() : absolute_path(input, cwd));
  return std::unique_ptr<Checkpointer>(new Checkpointer(std::move(*file), std::move(paths)));
}

std::vector<std::optional<ResumePoint>> Checkpointer::resume_points() const {
  std::vector<std::optional<ResumePoint>> points(paths_.size());
  for (const CheckpointEntry& e : file_.loaded())
    for (size_t i = 0; i < paths_.size(); ++i)
      if (paths_[i] == e.path) points[i] = e.at;
  return points;
}

bool Checkpointer::save(TimePoint now) {
  if (!dirty()) return !failing_;
  // Files of other runs' (not read this time) keep their entries as they were.
  std::map<std::string, ResumePoint> merged;
  std::vector<std::string> order;
  for (const CheckpointEntry& e : file_.loaded()) {
    if (!merged.count(e.path)) order.push_back(e.path);
    merged[e.path] = e.at;
  }
  for (size_t i = 0; i < paths_.size(); ++i) {
    if (paths_[i].empty() || !ledger_.known(static_cast<uint32_t>(i))) continue;
    if (!merged.count(paths_[i])) order.push_back(paths_[i]);
    merged[paths_[i]] = ledger_.position(static_cast<uint32_t>(i));
  }
  std::vector<CheckpointEntry> entries;
  for (const std::string& p : order) entries.push_back({p, merged[p]});
  std::string error;
  next_write_ = now + kCheckpointEvery;
  if (!file_.save(entries, error)) {
    if (!failing_)
      diag::error(error + "; trying again every " + format_duration(kCheckpointEvery) +
                  "; meanwhile what is delivered stays charged to --max-buffer, and reading waits when it is full");
    failing_ = true;
    return false;
  }
  if (failing_) diag::warning("--checkpoint: " + file_.path() + " written again");
  failing_ = false;
  dirty_ = false;
  new_file_ = false;
  for (size_t i = 0; i < paths_.size(); ++i)
    if (ledger_.known(static_cast<uint32_t>(i))) written_[i] = ledger_.position(static_cast<uint32_t>(i)).identity;
  return true;
}

bool Checkpointer::names_new_file() {
  if (ledger_.take_new_file()) {
    for (size_t i = 0; i < paths_.size() && !new_file_; ++i) {
      auto input = static_cast<uint32_t>(i);
      new_file_ = !paths_[i].empty() && ledger_.known(input) &&
                  !(written_[i] && written_[i]->same_file(ledger_.position(input).identity));
    }
  }
  return new_file_;
}

}  // namespace batchpipe
