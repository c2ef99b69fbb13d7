// The reference for bench/run's "naive" column: what a careful programmer
// writes in a few lines to validate NDJSON with simdjson: read stdin line by
// line, parse each line with the DOM parser on one thread, write the valid
// ones out joined into arrays of 1000. It shows what validation costs on
// this CPU, whatever SIMD level simdjson picks for it.
#include <cstdio>
#include <string>

#include <simdjson.h>

int main() {
  simdjson::dom::parser parser;
  std::string line, out;
  simdjson::padded_string padded;
  char* buf = nullptr;
  size_t cap = 0;
  ssize_t n;
  size_t in_batch = 0;
  while ((n = ::getline(&buf, &cap, stdin)) > 0) {
    size_t len = static_cast<size_t>(n);
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) --len;
    if (len == 0) continue;
    padded = simdjson::padded_string(buf, len);
    simdjson::dom::element doc;
    if (parser.parse(padded).get(doc) != simdjson::SUCCESS) continue;
    out += in_batch ? ',' : '[';
    out.append(buf, len);
    if (++in_batch == 1000) {
      out += "]\n";
      in_batch = 0;
    }
    if (out.size() >= (1 << 20)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  if (in_batch) out += "]\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::free(buf);
  return 0;
}
