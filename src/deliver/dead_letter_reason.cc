#include "deliver/dead_letter_reason.h"

#include <ctime>

#include <fmt/format.h>

#include "json/json_quote.h"

namespace batchpipe {

std::string format_reason(const DeadLetterReason& r) {
  using namespace std::chrono;
  auto since = r.time.time_since_epoch();
  time_t seconds = static_cast<time_t>(duration_cast<std::chrono::seconds>(since).count());
  auto millis = duration_cast<milliseconds>(since).count() % 1000;
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &utc);
  std::string out = fmt::format("{{\"time\":\"{}.{:03}Z\",\"batch\":{},\"record\":{},\"records\":{},\"input\":", when,
                                millis, r.batch, r.record, r.records);
  append_json_quoted(r.input, out);
  out += ",\"line\":";
  out += r.line ? std::to_string(r.line) : "null";
  fmt::format_to(std::back_inserter(out), ",\"lines\":[{},{}],\"status\":", r.first_line, r.last_line);
  out += r.status ? std::to_string(r.status) : "null";
  out += ",\"reason\":";
  append_json_quoted(r.reason, out);
  out += "}\n";
  return out;
}

}  // namespace batchpipe
