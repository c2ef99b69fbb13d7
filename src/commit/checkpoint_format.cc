#include "commit/checkpoint_format.h"

#include <charconv>
#include <filesystem>

#include <fmt/format.h>
#include <simdjson.h>

#include "json/json_quote.h"

namespace batchpipe {

std::string format_checkpoint(const std::vector<CheckpointEntry>& entries) {
  std::string out = "{\"version\": 1, \"files\": [\n";
  for (size_t i = 0; i < entries.size(); ++i) {
    const CheckpointEntry& e = entries[i];
    out += "{\"path\": ";
    append_json_quoted(e.path, out);
    const FileIdentity& id = e.at.identity;
    out += fmt::format(", \"device\": {}, \"inode\": {}, \"fingerprint\": \"{}\", \"fingerprint_bytes\": {}, "
                       "\"offset\": {}, \"line\": {}}}{}\n",
                       id.device, id.inode, fingerprint_text(id.fingerprint), id.fingerprint_bytes, e.at.offset,
                       e.at.line, i + 1 < entries.size() ? "," : "");
  }
  out += "]}\n";
  return out;
}

bool parse_checkpoint(std::string_view text, std::vector<CheckpointEntry>& entries, std::string& error) {
  entries.clear();
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return true;
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root)) {
    error = fmt::format("not JSON ({})", simdjson::error_message(err));
    return false;
  }
  int64_t version = 0;
  simdjson::dom::array files;
  if (root["version"].get(version) || version != 1) {
    error = "no \"version\": 1";
    return false;
  }
  if (root["files"].get(files)) {
    error = "no \"files\" array";
    return false;
  }
  size_t n = 0;
  for (simdjson::dom::element f : files) {
    ++n;
    CheckpointEntry e;
    std::string_view path, print;
    uint64_t device = 0, inode = 0, print_bytes = 0, offset = 0, line = 0;
    auto bad = [&](const char* what) {
      error = fmt::format("file {} of \"files\": {}", n, what);
      return false;
    };
    if (f["path"].get(path) || path.empty() || path[0] != '/') return bad("\"path\" must be an absolute path");
    if (f["device"].get(device) || f["inode"].get(inode) || f["fingerprint_bytes"].get(print_bytes) ||
        f["offset"].get(offset) || f["line"].get(line))
      return bad("\"device\", \"inode\", \"fingerprint_bytes\", \"offset\" and \"line\" must be whole numbers");
    if (print_bytes > kFingerprintBytes) return bad("\"fingerprint_bytes\" is larger than 1024");
    uint64_t fingerprint = 0;
    if (f["fingerprint"].get(print) || print.size() != 16 ||
        std::from_chars(print.data(), print.data() + print.size(), fingerprint, 16).ptr != print.data() + 16)
      return bad("\"fingerprint\" must be 16 hex digits");
    e.path = std::string(path);
    e.at.identity = {true, device, inode, fingerprint, print_bytes};
    e.at.offset = offset;
    e.at.line = line;
    entries.push_back(std::move(e));
  }
  return true;
}

std::string absolute_path(const std::string& path, const std::string& cwd) {
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::path(cwd) / p;
  return p.lexically_normal().string();
}

}  // namespace batchpipe
