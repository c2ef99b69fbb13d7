#include "batch/field_template.h"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace batchpipe {
namespace {

constexpr std::string_view kDefaultTimeFormat = "%Y-%m-%dT%H:%M:%SZ";

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

void percent_encode(std::string_view value, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : value) {
    if (unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
}

void json_escape(std::string_view value, std::string& out) {
  for (unsigned char c : value) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '{': out += "\\u007b"; break;  // never read as {record_id} in a --bulk-action
      case '}': out += "\\u007d"; break;
      default:
        if (c < 0x20 || c == 0x7f)
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
        else
          out.push_back(static_cast<char>(c));
    }
  }
}

/// The first byte of `value` that `place` cannot carry, if any.
std::optional<unsigned char> refused_byte(std::string_view value, TextPlace place) {
  for (unsigned char c : value) {
    bool control = c < 0x20 || c == 0x7f;
    if (place == TextPlace::Header && control && c != '\t') return c;
    if (place == TextPlace::Env && control && c != '\t' && c != '\n') return c;
  }
  return std::nullopt;
}

std::string byte_name(unsigned char c) {
  if (c == '\r') return "a carriage return (CR)";
  if (c == '\n') return "a line feed (LF)";
  if (c == 0) return "a NUL byte";
  return fmt::format("the control byte 0x{:02x}", c);
}

/// Digits at `at` of `text`, `n` of them exactly; -1 if not.
int digits(std::string_view text, size_t at, size_t n) {
  if (at + n > text.size()) return -1;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

std::optional<double> rfc3339_seconds(std::string_view s) {
  int year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || s[4] != '-' || s[7] != '-') return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  double fraction = 0;
  long offset = 0;
  if (s.size() > 10) {
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return std::nullopt;
    int hour = digits(s, 11, 2), minute = digits(s, 14, 2), second = digits(s, 17, 2);
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60 || s[13] != ':' ||
        s[16] != ':')
      return std::nullopt;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    size_t at = 19;
    if (at < s.size() && s[at] == '.') {
      size_t start = ++at;
      double scale = 0.1;
      while (at < s.size() && s[at] >= '0' && s[at] <= '9') {
        fraction += (s[at] - '0') * scale;
        scale /= 10;
        ++at;
      }
      if (at == start) return std::nullopt;
    }
    if (at == s.size()) {
      // no zone: taken as UTC
    } else if ((s[at] == 'Z' || s[at] == 'z') && at + 1 == s.size()) {
    } else if ((s[at] == '+' || s[at] == '-') && at + 6 == s.size() && s[at + 3] == ':') {
      int oh = digits(s, at + 1, 2), om = digits(s, at + 4, 2);
      if (oh < 0 || om < 0 || oh > 23 || om > 59) return std::nullopt;
      offset = (oh * 3600L + om * 60L) * (s[at] == '+' ? 1 : -1);
    } else {
      return std::nullopt;
    }
  }
  std::time_t t = ::timegm(&tm);
  return static_cast<double>(t - offset) + fraction;
}

}  // namespace

bool FieldTemplate::has_record_fields(std::string_view text) {
  std::string error;
  auto t = parse(text, TextPlace::Header, error);
  return !t || t->uses_record();  // a text that does not parse is said by whoever parses it for real
}

std::optional<FieldTemplate> FieldTemplate::parse(std::string_view text, TextPlace place, std::string& error) {
  FieldTemplate t;
  t.place_ = place;
  auto literal = [&](std::string_view s) {
    if (s.empty()) return;
    if (t.pieces_.empty() || t.pieces_.back().kind != Piece::Literal) t.pieces_.emplace_back();
    t.pieces_.back().text.append(s);
  };
  auto batch_field = [&](char code) {
    Piece p;
    p.kind = Piece::BatchField;
    p.code = code;
    t.pieces_.push_back(std::move(p));
  };
  while (!text.empty()) {
    size_t brace = text.find('{');
    literal(text.substr(0, brace));
    if (brace == std::string_view::npos) break;
    text.remove_prefix(brace);
    if (text.starts_with("{batch_id}")) {
      batch_field('i');
      text.remove_prefix(10);
    } else if (text.starts_with("{batch}")) {
      batch_field('b');
      text.remove_prefix(7);
    } else if (text.starts_with("{attempt}")) {
      batch_field('a');
      text.remove_prefix(9);
    } else if (text.starts_with("{now}") || text.starts_with("{now:")) {
      size_t end = text.find('}');
      if (end == std::string_view::npos) {
        error = fmt::format("'{}': {{now:FORMAT}} needs its closing brace", text);
        return std::nullopt;
      }
      std::string_view format = text.substr(4, end - 4);
      if (format.starts_with(":")) format.remove_prefix(1);
      if (text[4] == ':' && format.empty()) {
        error = "{now:FORMAT}: expected a strftime format after the colon, such as {now:%Y.%m.%d}";
        return std::nullopt;
      }
      Piece p;
      p.kind = Piece::Now;
      p.time_format = format.empty() ? std::string(kDefaultTimeFormat) : std::string(format);
      t.pieces_.push_back(std::move(p));
      t.uses_record_ = true;
      text.remove_prefix(end + 1);
    } else if (text.starts_with("{.")) {
      size_t end = text.find('}');
      if (end == std::string_view::npos) {
        error = fmt::format("'{}': a record field needs its closing brace, as in {{.service}}", text);
        return std::nullopt;
      }
      std::string_view inside = text.substr(1, end - 1);  // ".a.b:-x"
      size_t colon = inside.find(':');
      std::string_view name = inside.substr(0, colon);
      Piece f;
      f.kind = Piece::RecordField;
      f.text = std::string(name);
      for (size_t at = 1; at <= name.size();) {
        size_t dot = name.find('.', at);
        if (dot == std::string_view::npos) dot = name.size();
        if (dot == at) {
          error = fmt::format("'{{{}}}': expected a field name after each dot, as in {{.kubernetes.namespace}}",
                              inside);
          return std::nullopt;
        }
        f.path.emplace_back(name.substr(at, dot - at));
        at = dot + 1;
      }
      if (colon != std::string_view::npos) {
        std::string_view rest = inside.substr(colon + 1);
        if (rest.starts_with("-")) {
          f.fallback = std::string(rest.substr(1));
        } else if (rest.empty()) {
          error = fmt::format("'{{{}}}': expected :-DEFAULT or :FORMAT (a strftime format) after the colon", inside);
          return std::nullopt;
        } else {
          f.time_format = std::string(rest);
        }
      }
      t.pieces_.push_back(std::move(f));
      t.uses_record_ = true;
      text.remove_prefix(end + 1);
    } else {
      literal("{");
      text.remove_prefix(1);
    }
  }
  return t;
}

std::vector<std::vector<std::string>> FieldTemplate::paths() const {
  std::vector<std::vector<std::string>> out;
  for (const Piece& p : pieces_)
    if (p.kind == Piece::RecordField) out.push_back(p.path);
  return out;
}

std::string FieldTemplate::sample(std::string_view value) const {
  std::string out;
  for (const Piece& p : pieces_) {
    if (p.kind == Piece::Literal) out += p.text;
    else if (p.kind == Piece::BatchField) out += p.code == 'i' ? "{batch_id}" : p.code == 'b' ? "{batch}" : "{attempt}";
    else out += value;
  }
  return out;
}

bool FieldTemplate::place_value(std::string_view value, const std::string& name, std::string& out,
                                std::string& error) const {
  switch (place_) {
    case TextPlace::UrlPath: percent_encode(value, out); return true;
    case TextPlace::Json: json_escape(value, out); return true;
    case TextPlace::Header:
    case TextPlace::Env:
      if (auto c = refused_byte(value, place_)) {
        error = fmt::format("the value of {} holds {}, which cannot go in {}", name, byte_name(*c),
                            place_ == TextPlace::Header ? "a header" : "an environment variable");
        return false;
      }
      out.append(value);
      return true;
  }
  return true;
}

bool FieldTemplate::render(FieldSource& fields, std::time_t now, std::string& out, std::string& error) const {
  for (const Piece& p : pieces_) {
    switch (p.kind) {
      case Piece::Literal: out += p.text; continue;
      case Piece::BatchField:
        out.push_back(kBatchMark);
        out.push_back(p.code);
        continue;
      case Piece::Now: out += format_utc(static_cast<double>(now), *p.time_format); continue;
      case Piece::RecordField: break;
    }
    FieldValue v = fields.get(p.path);
    if (v.kind == FieldValue::Composite) {
      error = fmt::format("{} is an object or an array, not a value that can go in a template", p.text);
      return false;
    }
    if (v.kind == FieldValue::Missing) {
      if (!p.fallback) {
        error = fmt::format("{} is missing or null (give a default: {{{}:-DEFAULT}})", p.text, p.text);
        return false;
      }
      if (!place_value(*p.fallback, p.text, out, error)) return false;
      continue;
    }
    if (p.time_format) {
      std::optional<double> seconds = timestamp_seconds(v);
      if (!seconds) {
        error = fmt::format("{} is not a timestamp (RFC 3339 text, or epoch seconds or milliseconds)", p.text);
        return false;
      }
      if (!place_value(format_utc(*seconds, *p.time_format), p.text, out, error)) return false;
    } else if (!place_value(v.text, p.text, out, error)) {
      return false;
    }
  }
  return true;
}

std::string expand_marks(std::string_view text, const TemplateValues& values) {
  std::string out;
  out.reserve(text.size() + 32);
  while (!text.empty()) {
    size_t mark = text.find(kBatchMark);
    out.append(text.substr(0, mark));
    if (mark == std::string_view::npos || mark + 1 >= text.size()) break;
    char code = text[mark + 1];
    if (code == 'i') out.append(values.batch_id);
    else if (code == 'b') fmt::format_to(std::back_inserter(out), "{}", values.batch);
    else fmt::format_to(std::back_inserter(out), "{}", values.attempt);
    text.remove_prefix(mark + 2);
  }
  return out;
}

std::optional<double> timestamp_seconds(const FieldValue& value) {
  if (value.kind != FieldValue::Text || value.text.empty()) return std::nullopt;
  if (value.string) return rfc3339_seconds(value.text);
  char* end = nullptr;
  double n = std::strtod(value.text.c_str(), &end);
  if (end != value.text.c_str() + value.text.size() || !std::isfinite(n)) return std::nullopt;
  return std::fabs(n) > 1e11 ? n / 1000 : n;
}

std::string format_utc(double seconds, const std::string& format) {
  std::time_t t = static_cast<std::time_t>(std::floor(seconds));
  std::tm tm{};
  if (!::gmtime_r(&t, &tm)) return {};
  char buffer[256];
  size_t n = std::strftime(buffer, sizeof buffer, format.c_str(), &tm);
  return std::string(buffer, n);
}

}  // namespace batchpipe
