#include "sinks/header_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/unique_fd.h"
#include "batch/field_template.h"
#include "sinks/header_lines.h"

namespace batchpipe {
namespace {

/// As at start-up (cli.cc): a header file larger than this is refused.
constexpr size_t kHeaderFileLimit = 1 << 20;

FileStamp stamp_of(const struct stat& st) {
  return {st.st_dev, st.st_ino, st.st_size, static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
          static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
}

/// The whole of the regular file at `path`, and its stamp; false with
/// `problem` set if it cannot be had. Never blocks: a FIFO put in its place
/// is refused, not waited on.
bool read_regular(const std::string& path, std::string& text, FileStamp& stamp, std::string& problem) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0) {
    problem = fmt::format("cannot read it: {}", std::strerror(errno));
    return false;
  }
  stamp = stamp_of(st);
  if (!S_ISREG(st.st_mode)) {
    problem = "it is no longer a regular file";
    return false;
  }
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      problem = fmt::format("cannot read it: {}", std::strerror(errno));
      return false;
    }
    if (n == 0) return true;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kHeaderFileLimit) {
      problem = fmt::format("it is larger than {} bytes", kHeaderFileLimit);
      return false;
    }
  }
}

}  // namespace

bool stamp_of_fd(int fd, FileStamp& stamp) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  stamp = stamp_of(st);
  return true;
}

FileStamp stamp_of_path(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return stamp_of(st);
}

HeaderSource::HeaderSource(std::vector<HeaderPart> parts, std::vector<std::string> secrets, Warn warn)
    : parts_(std::move(parts)), problems_(parts_.size()), fixed_secrets_(std::move(secrets)), warn_(std::move(warn)) {
  for (const HeaderPart& p : parts_) rereads_ = rereads_ || !p.path.empty();
  publish();
}

bool HeaderSource::refresh(size_t i, bool force, std::string& problem) {
  HeaderPart& part = parts_[i];
  struct stat st {};
  if (::stat(part.path.c_str(), &st) != 0) {
    problem = fmt::format("cannot read it: {}", std::strerror(errno));
    return false;
  }
  if (!force && stamp_of(st) == part.stamp) {
    problem = problems_[i];  // the version read last: its problem, if it had one, stands
    return false;
  }
  std::string text;
  std::vector<std::string> lines;
  std::string error;
  bool read = read_regular(part.path, text, part.stamp, problem);  // the stamp of what was read
  if (!read) return false;
  if (!parse_header_file(text, part.path, lines, error)) {
    problem = std::move(error);
    return false;
  }
  for (const std::string& line : lines)
    if (FieldTemplate::has_record_fields(line)) {
      problem = fmt::format("'{}' uses record fields, which a header file cannot", line.substr(0, line.find(':')));
      return false;
    }
  if (lines.empty() && !part.lines.empty()) {
    problem = "the file is empty (or holds only comments)";
    return false;
  }
  if (lines == part.lines) return false;
  part.lines = std::move(lines);
  return true;
}

void HeaderSource::publish() {
  auto set = std::make_shared<HeaderSet>();
  std::vector<std::string> file_secrets;
  for (const HeaderPart& p : parts_)
    for (const std::string& line : p.lines) {
      set->all.push_back(line);
      if (p.path.empty()) continue;
      set->from_files.push_back(line);
      note_secret(line, true, file_secrets);
    }
  set->secrets = fixed_secrets_;
  set->secrets.insert(set->secrets.end(), previous_secrets_.begin(), previous_secrets_.end());
  set->secrets.insert(set->secrets.end(), file_secrets.begin(), file_secrets.end());
  set->version = set_ ? set_->version + 1 : 0;
  previous_secrets_ = std::move(file_secrets);
  set_ = std::move(set);
}

std::shared_ptr<const HeaderSet> HeaderSource::current() {
  if (!rereads_) return set_;  // never changes: no lock
  std::lock_guard lock(mutex_);
  bool changed = false;
  for (size_t i = 0; i < parts_.size(); ++i) {
    if (parts_[i].path.empty()) continue;
    std::string problem;
    changed = refresh(i, false, problem) || changed;
    if (problem != problems_[i] && !problem.empty())
      warn_(problem.starts_with("--header")
                ? fmt::format("{}; still sending the headers read from it before", problem)
                : fmt::format("--header @{}: {}; still sending the headers read from it before (replace the file "
                              "whole: write a new one and rename it over this one)",
                              parts_[i].path, problem));
    problems_[i] = std::move(problem);
  }
  if (changed) publish();
  return set_;
}

std::shared_ptr<const HeaderSet> HeaderSource::reread(std::string& why) {
  why.clear();
  if (!rereads_) return set_;
  std::lock_guard lock(mutex_);
  bool changed = false;
  for (size_t i = 0; i < parts_.size(); ++i) {
    if (parts_[i].path.empty()) continue;
    std::string problem;
    changed = refresh(i, true, problem) || changed;
    if (!problem.empty())
      why += fmt::format("{}--header @{} read again: {}", why.empty() ? "" : "; ", parts_[i].path, problem);
    problems_[i] = std::move(problem);
  }
  if (changed) publish();
  else if (why.empty()) why = "the header file, read again, is unchanged";
  return set_;
}

}  // namespace batchpipe
