// The reference for bench/run's "naive" column: what a careful programmer
// writes in a few lines to validate NDJSON with simdjson: read stdin in 1 MiB
// blocks, memchr the lines, parse each where it lies with one DOM parser
// reused across lines (no padded copy per line), write the valid ones out
// joined into arrays of 1000. It shows what validation costs on this CPU,
// whatever SIMD level simdjson picks for it.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <simdjson.h>

namespace {

simdjson::dom::parser parser;
std::string out;
size_t in_batch = 0;

/// Parses one line where it lies: the parser reads up to SIMDJSON_PADDING
/// bytes past it, which are the rest of the block or the padding after it.
void take(const char* line, size_t len) {
  while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t')) --len;
  if (len == 0) return;
  simdjson::dom::element doc;
  if (parser.parse(line, len, false).get(doc) != simdjson::SUCCESS) return;
  out += in_batch ? ',' : '[';
  out.append(line, len);
  if (++in_batch == 1000) {
    out += "]\n";
    in_batch = 0;
  }
  if (out.size() >= (1 << 20)) {
    std::fwrite(out.data(), 1, out.size(), stdout);
    out.clear();
  }
}

}  // namespace

int main() {
  size_t cap = 1 << 20;
  std::vector<char> buf(cap + simdjson::SIMDJSON_PADDING);
  size_t have = 0;
  for (;;) {
    if (have == cap) {  // a line longer than the buffer: grow it
      cap *= 2;
      buf.resize(cap + simdjson::SIMDJSON_PADDING);
    }
    ssize_t n = ::read(0, buf.data() + have, cap - have);
    if (n < 0) return 1;
    if (n == 0) break;
    have += static_cast<size_t>(n);
    const char* p = buf.data();
    const char* end = p + have;
    while (const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)))) {
      take(p, static_cast<size_t>(nl - p));
      p = nl + 1;
    }
    have = static_cast<size_t>(end - p);
    std::memmove(buf.data(), p, have);
  }
  if (have) take(buf.data(), have);
  if (in_batch) out += "]\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
