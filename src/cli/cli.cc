#include "cli/cli.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/format_options.h"
#include "batch/field_template.h"
#include "batch/route.h"
#include "cli/option_table.h"
#include "cli/output_clash.h"
#include "cli/suggest.h"
#include "base/unique_fd.h"
#include "cli/url_check.h"
#include "report/metrics_labels.h"
#include "sinks/codec_options.h"
#include "json/item_results.h"
#include "sinks/header_lines.h"
#include "sinks/codec_pool.h"
#include "sinks/reply_quote.h"
#include "sinks/request_template.h"

namespace batchpipe {
namespace {

constexpr const char* kFooter = R"(Exit status: 0 all delivered, 1 invalid lines skipped, 2 usage error,
3 stopped at an invalid line, 4 records undelivered, 5 stopped after a delivery failure,
6 an input file could not be read, 7 out of a system resource at start-up,
129/130/143 stopped by SIGHUP/SIGINT/SIGTERM.
See batchpipe(1) for details.)";

/// A flag's value that the parser accepted as text but that does not mean anything.
struct BadValue {
  std::string message;
};

uint64_t to_count(const std::string& flag, const std::string& text, uint64_t minimum = 1) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range && end == text.data() + text.size())
    throw BadValue{fmt::format("{}: {} is too large", flag, text)};
  if (ec != std::errc() || end != text.data() + text.size() || value < minimum)
    throw BadValue{fmt::format("{}: expected a whole number of at least {}, got '{}'", flag, minimum, text)};
  return value;
}

/// The number in front of `text` ("1.5" of "1.5ms") and the unit after it, when
/// the number is a plain decimal; used to say why a size or duration was refused.
std::optional<std::pair<double, std::string>> number_and_unit(const std::string& text) {
  size_t i = text.find_first_not_of("0123456789.");
  std::string number = text.substr(0, i);
  if (number.empty() || number.find_first_of("0123456789") == std::string::npos ||
      number.find('.') != number.rfind('.'))
    return std::nullopt;
  return std::pair{std::strtod(number.c_str(), nullptr), i == std::string::npos ? "" : text.substr(i)};
}

Duration to_duration(const std::string& flag, const std::string& text) {
  auto d = parse_duration(text);
  if (d) return *d;
  auto parts = number_and_unit(text);
  if (parts && parse_duration("1" + parts->second)) throw BadValue{fmt::format("{}: {} is too large", flag, text)};
  throw BadValue{fmt::format("{}: expected {}, got '{}'", flag, kDurationForms, text)};
}

uint64_t to_size(const std::string& flag, const std::string& text, uint64_t minimum,
                 uint64_t maximum = kMaxMaxBytes, const char* maximum_text = "1G") {
  auto s = parse_size(text);
  if (!s) {
    auto parts = number_and_unit(text);
    auto unit = parts ? parse_size("1" + parts->second) : std::nullopt;
    if (unit && parts->first * static_cast<double>(*unit) >= 1e18)
      throw BadValue{fmt::format("{}: {} is too large (at most {})", flag, text, maximum_text)};
    if (unit) throw BadValue{fmt::format("{}: {} is not whole bytes", flag, text)};
    throw BadValue{fmt::format("{}: expected {}, got '{}'", flag, kSizeForms, text)};
  }
  if (*s < minimum) throw BadValue{fmt::format("{}: must be at least {} bytes, got '{}'", flag, minimum, text)};
  if (*s > maximum) throw BadValue{fmt::format("{}: {} is too large (at most {})", flag, text, maximum_text)};
  return *s;
}

/// "skip, fail or quote"
std::string one_of(const std::vector<std::string>& modes) {
  std::string out;
  for (size_t i = 0; i < modes.size(); ++i)
    out += (i == 0 ? "" : i + 1 == modes.size() ? " or " : ", ") + modes[i];
  return out;
}

const std::string& to_mode(const std::string& flag, const std::string& text, const std::vector<std::string>& modes) {
  for (const std::string& m : modes)
    if (text == m) return m;
  throw BadValue{fmt::format("{}: expected {}, got '{}'", flag, one_of(modes), text)};
}

/// The whole of a small file the user named, for -H @FILE and --cacert: a
/// directory, a file that cannot be read or one over `limit` bytes is refused
/// with a message that begins with `what`.
/// `stamp` and `regular`, if given, get the file's stamp and whether it is a
/// regular file.
std::string read_small_file(const std::string& what, const std::string& path, size_t limit, FileStamp* stamp = nullptr,
                            bool* regular = nullptr) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0)
    throw BadValue{fmt::format("{}: cannot read {}: {}", what, path, std::strerror(errno))};
  if (S_ISDIR(st.st_mode)) throw BadValue{fmt::format("{}: {} is a directory, not a file", what, path)};
  if (stamp) stamp_of_fd(fd.get(), *stamp);
  if (regular) *regular = S_ISREG(st.st_mode);
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw BadValue{fmt::format("{}: cannot read {}: {}", what, path, std::strerror(errno))};
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > limit) throw BadValue{fmt::format("{}: {} is larger than {} bytes", what, path, limit)};
  }
  return text;
}

/// Routing by field: --env's names, and every template parsed now, so that
/// a mistake is said before anything is read.
void check_routes(Config& config, const std::string& format, const std::string& wrap, const std::string& bulk_action,
                  const std::vector<std::string>& env) {
  for (const std::string& e : env) {
    size_t eq = e.find('=');
    std::string name = e.substr(0, eq);
    bool valid = eq != std::string::npos && !name.empty() && !(name[0] >= '0' && name[0] <= '9') &&
                 std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
    if (!valid) throw BadValue{fmt::format("--env '{}': expected NAME=TEMPLATE, e.g. TENANT={{.tenant}}", e)};
    if (name.starts_with("BATCHPIPE_"))
      throw BadValue{fmt::format("--env {}: BATCHPIPE_ variables are batchpipe's own", name)};
  }
  if (!env.empty() && config.exec_command.empty()) throw BadValue{"--env: only applies with --exec"};
  std::vector<std::string> fixed;  // a header file read again is added at each request (HttpTransport), not routed
  for (const HeaderPart& part : config.header_parts)
    if (part.path.empty()) fixed.insert(fixed.end(), part.lines.begin(), part.lines.end());
  config.routes = {config.post_url, fixed, env, format.empty() ? "array" : format, wrap, bulk_action};
  std::string error;
  auto router = Router::make(config.routes, error);
  if (!router) throw BadValue{error};
  if (router->per_record_action() && !config.delivers())
    throw BadValue{"--bulk-action: record fields ({.name}, {now:...}) only apply with --exec or --post, where a "
                   "record whose action line cannot be filled in fails alone, into --dead-letter"};
  if (router->routes() && !config.delivers())
    throw BadValue{"--wrap: record fields ({.name}, {now:...}) route batches by key, which only applies with "
                   "--exec or --post"};
  bool looks = router->routes() || router->per_record_action();
  if (looks && !config.spool.empty() && config.interval == Duration::zero())
    throw BadValue{"--spool with record fields needs an --interval: a key's open batch keeps every segment from its "
                   "first record on, and without an interval a key that sees no more records would keep them for "
                   "ever"};
  if (looks && config.map)
    throw BadValue{"--map: not with record fields in templates (routing by key); answers would come by key"};

}

/// -H values: "Name: value", or "@FILE" with one header a line (blank lines
/// and lines starting with '#' are skipped), so secrets stay out of ps. A
/// regular FILE is read again during the run when it changes (see
/// sinks/header_source.h), so its lines cannot route by record fields. The
/// values never to quote back go to `secrets`.
std::vector<HeaderPart> to_header_parts(const std::vector<std::string>& values, std::vector<std::string>& secrets) {
  std::vector<HeaderPart> out;
  std::string error;
  for (const std::string& v : values) {
    if (v.empty() || v[0] != '@') {
      std::optional<std::string> h = parse_header(v, "", error);
      if (!h) throw BadValue{error};
      note_secret(*h, false, secrets);
      out.push_back({"", {std::move(*h)}, {}});
      continue;
    }
    std::string path = v.substr(1);
    if (path.empty()) throw BadValue{"--header @: expected a file name after '@'"};
    HeaderPart part;
    bool regular = false;
    std::string text = read_small_file("--header", path, 1 << 20, &part.stamp, &regular);
    if (!parse_header_file(text, path, part.lines, error)) throw BadValue{error};
    for (const std::string& h : part.lines) {
      note_secret(h, true, secrets);
      if (regular && FieldTemplate::has_record_fields(h))
        throw BadValue{fmt::format("--header @{}: '{}' uses record fields ({{.name}}, {{now:...}}), which a header "
                                   "file cannot (it is read again when it changes): give that header with -H",
                                   path, h.substr(0, h.find(':')))};
    }
    if (regular) part.path = std::move(path);
    out.push_back(std::move(part));
  }
  return out;
}

/// --cacert: a readable file with at least one PEM certificate in it.
void check_cacert(const std::string& path) {
  std::string text = read_small_file("--cacert", path, 64 << 20);
  if (text.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    throw BadValue{fmt::format("--cacert: {} has no PEM certificate in it (no '-----BEGIN CERTIFICATE-----' line)",
                               path)};
}

/// --cert and --key, as curl means them (PEM; the key in the certificate's
/// file unless --key names one), checked now so that a mistake is not a TLS
/// error at the first request. No passphrase: an encrypted key is refused.
void check_client_certificate(const Config& config) {
  if (config.cert.empty()) {
    if (!config.key.empty()) throw BadValue{"--key: only applies with --cert, whose private key it holds"};
    return;
  }
  std::string cert = read_small_file("--cert", config.cert, 64 << 20);
  if (cert.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    throw BadValue{fmt::format("--cert: {} has no PEM certificate in it (no '-----BEGIN CERTIFICATE-----' line)",
                               config.cert)};
  const std::string& key_path = config.key.empty() ? config.cert : config.key;
  std::string key = config.key.empty() ? cert : read_small_file("--key", config.key, 64 << 20);
  if (key.find("ENCRYPTED") != std::string::npos)
    throw BadValue{fmt::format("{}: the private key in {} is encrypted, and batchpipe takes no passphrase: keep a "
                               "decrypted copy only you can read (openssl pkey -in {} -out KEY.pem)",
                               config.key.empty() ? "--cert" : "--key", key_path, key_path)};
  if (key.find("PRIVATE KEY-----") == std::string::npos)
    throw BadValue{config.key.empty()
                       ? fmt::format("--cert: {} holds no private key: name its file with --key FILE", config.cert)
                       : fmt::format("--key: {} has no PEM private key in it (no '-----BEGIN ... PRIVATE KEY-----' "
                                     "line)", config.key)};
}

/// --aws-sigv4 PROVIDER1[:PROVIDER2[:REGION[:SERVICE]]], as curl spells it,
/// with the keys from the environment, never the command line (ps shows it);
/// the secret and the session token join the secrets never quoted back.
AwsSigning to_aws_signing(const std::string& param, Config& config) {
  const std::string expected = "expected PROVIDER1[:PROVIDER2[:REGION[:SERVICE]]], e.g. aws:amz:us-east-1:firehose";
  if (param.empty()) throw BadValue{"--aws-sigv4: " + expected};
  size_t parts = 1;
  for (size_t start = 0;; ++parts) {
    size_t colon = param.find(':', start);
    std::string_view part = std::string_view(param).substr(start, colon == std::string::npos ? colon : colon - start);
    bool word = !part.empty() && std::all_of(part.begin(), part.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '-' || c == '_' || c == '.';
    });
    if (!word || parts > 4) throw BadValue{fmt::format("--aws-sigv4: '{}': {}", param, expected)};
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v ? v : "");
  };
  AwsSigning aws{param, env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN")};
  if (aws.access_key.empty() || aws.secret_key.empty())
    throw BadValue{"--aws-sigv4: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment (batchpipe "
                   "takes AWS keys from there only, never the command line, which ps shows)"};
  if (aws.token.find_first_of("\r\n") != std::string::npos)
    throw BadValue{"--aws-sigv4: AWS_SESSION_TOKEN holds a line break, which cannot go in a header"};
  for (const std::string& url : config.post_urls)
    if (url.find('@') != std::string::npos && url.find('@') < url.find('/', url.find("://") + 3))
      throw BadValue{"--aws-sigv4: not with a user:password in the --post URL: the request is signed with the AWS keys"};
  for (const std::string& s : {aws.secret_key, aws.token})
    if (s.size() >= 3) config.secrets.push_back(s);
  return aws;
}

/// --retries: a count (capped at a million, a few years of retries at the
/// default delays) or "inf".
uint32_t to_retries(const std::string& text) {
  if (text == "inf") return kRetriesForever;
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    throw BadValue{fmt::format("--retries: expected a whole number (0 for none) or inf, got '{}'", text)};
  return static_cast<uint32_t>(std::min<uint64_t>(to_count("--retries", text, 0), 1000000));
}

/// --rate: "N/s" or "N/m", N from 1 to kMaxRate.
Rate to_rate(const std::string& text) {
  size_t slash = text.find('/');
  std::string count = text.substr(0, slash), unit = slash == std::string::npos ? "" : text.substr(slash + 1);
  if (slash == std::string::npos || count.empty() || count.find_first_not_of("0123456789") != std::string::npos ||
      (unit != "s" && unit != "m"))
    throw BadValue{fmt::format("--rate: expected requests per second or minute, such as 20/s or 600/m, got '{}'", text)};
  uint64_t n = to_count("--rate", count);
  if (n > kMaxRate) throw BadValue{fmt::format("--rate: {} is too many (at most {}/{})", text, kMaxRate, unit)};
  return {n, unit == "s" ? Duration(std::chrono::seconds(1)) : Duration(std::chrono::minutes(1))};
}

/// --permanent-status and --retryable-status: exit statuses 1-255 with
/// --exec, HTTP statuses 100-599 but 2xx with --post; no status in both.
StatusRules to_status_rules(const std::string& permanent, const std::string& retryable, bool exec) {
  StatusRules rules;
  auto parse = [&](const char* flag, const std::string& text, StatusList& out) {
    if (text.empty()) return;
    std::string error;
    auto list = exec ? StatusList::parse(text, 1, 255, error) : StatusList::parse(text, 100, 599, error);
    if (!list) throw BadValue{fmt::format("{}: {}{}", flag, error, exec ? " (exit statuses of --exec)" : " (HTTP statuses)")};
    if (!exec && list->touches(200, 299))
      throw BadValue{fmt::format("{}: 2xx means delivered and cannot be named, got '{}'", flag, text)};
    out = std::move(*list);
  };
  parse("--permanent-status", permanent, rules.permanent);
  parse("--retryable-status", retryable, rules.retryable);
  if (auto both = rules.permanent.overlap(rules.retryable))
    throw BadValue{fmt::format("--permanent-status and --retryable-status both name {}", *both)};
  return rules;
}

/// --bisect-on: HTTP statuses of refusals (400-599) with --post, exit
/// statuses (1-255) with --exec.
StatusList to_bisect_on(bool given, const std::string& text, bool exec) {
  if (!given) return {};
  const char* kind = exec ? "exit statuses such as 3" : "HTTP statuses such as 400,422";
  if (text.empty()) throw BadValue{fmt::format("--bisect-on: expected {}, got ''", kind)};
  std::string error;
  auto list = exec ? StatusList::parse(text, 1, 255, error) : StatusList::parse(text, 400, 599, error);
  if (!list)
    throw BadValue{fmt::format("--bisect-on: {} ({})", error,
                               exec ? "exit statuses of --exec, 1 to 255" : "HTTP statuses of refusals, 400 to 599")};
  return std::move(*list);
}

/// --retryable-reply, --bisect-reply, --permanent-reply: extended regular
/// expressions, compiled once here.
std::vector<ReplyPattern> to_reply_patterns(const char* flag, const std::vector<std::string>& texts) {
  std::vector<ReplyPattern> out;
  for (const std::string& text : texts) {
    std::string error;
    auto p = ReplyPattern::compile(text, error);
    if (!p) throw BadValue{fmt::format("{}: {}", flag, error)};
    out.push_back(std::move(*p));
  }
  return out;
}

/// True for a duration written as a bare number, which counts seconds.
bool bare_number(const std::string& text) {
  return !text.empty() && text.find_first_not_of("0123456789.") == std::string::npos;
}

/// Every option name, "--size" and "-q" alike, for "did you mean".
std::vector<std::string> all_option_names() {
  std::vector<std::string> names;
  for (const OptionRow& row : option_table())
    for (std::string_view name : option_names(row)) names.emplace_back(name);
  return names;
}

/// CLI11's complaint in our own words: the flag, and what it takes.
std::string usage_message(const CLI::App& app, const CLI::ParseError& e) {
  std::string what = e.what();
  std::string name = what.substr(0, what.find(':'));
  if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
    std::vector<std::string> rest = app.remaining();
    for (const std::string& arg : rest) {
      if (arg.size() < 2 || arg[0] != '-') continue;
      std::string flag = arg.substr(0, arg.find('='));
      auto near = closest_name(flag, all_option_names());
      return near ? fmt::format("unknown option {}; did you mean {}?", flag, *near)
                  : fmt::format("unknown option {}", flag);
    }
    return fmt::format("unexpected argument '{}'", rest.empty() ? what : rest.front());
  }
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) && what.find(" missing") != std::string::npos) {
    const OptionRow* row = find_option(name);
    if (row && !row->expects.empty()) return fmt::format("{}: missing value; expected {}", name, row->expects);
  }
  if (dynamic_cast<const CLI::ConversionError*>(&e)) {
    // "Could not convert: --stats = abc": only flags get here, as every option's value is taken as text.
    constexpr std::string_view kPrefix = "Could not convert: ";
    size_t equals = what.find(" = ");
    if (what.starts_with(kPrefix) && equals != std::string::npos)
      return fmt::format("{} is a flag and takes no value, got '{}'", what.substr(kPrefix.size(), equals - kPrefix.size()),
                         what.substr(equals + 3));
  }
  return what;
}

/// Refuses `--compress --post URL`: CLI11 takes the argument after an option
/// that needs a value whatever it is, so "--post" would become the codec and
/// the URL an input file. An argument that starts with "--" is an option, not
/// a value; `--compress=--x` still gives such a value on purpose. Runs after
/// CLI11 has parsed, so that --help and --version win.
void check_no_option_taken_as_value(int argc, const char* const* argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") return;  // the rest are files
    const OptionRow* row = arg.starts_with('-') ? find_option(arg) : nullptr;
    if (!row || (row->kind != ValueKind::One && row->kind != ValueKind::Repeated)) continue;
    std::string_view next = argv[i + 1];
    if (next.starts_with("--"))
      throw BadValue{fmt::format("{}: missing value before {}; expected {} (try 'batchpipe --help')", long_name(*row),
                                 next.substr(0, next.find('=')), row->expects)};
    ++i;  // the value, whatever it looks like
  }
}

/// --help drawn from the option table: the names and placeholder of each
/// row as the table writes them, and its default in brackets after the help.
class TableFormatter : public CLI::Formatter {
 public:
  std::string make_option_name(const CLI::Option* opt, bool positional) const override {
    const OptionRow* row = positional ? nullptr : find_option(opt->get_name());
    if (!row) return CLI::Formatter::make_option_name(opt, positional);
    if (row->kind == ValueKind::Optional) return fmt::format("{}[{}]", row->names, row->placeholder);
    return std::string(row->names);
  }
  std::string make_option_opts(const CLI::Option* opt) const override {
    const OptionRow* row = opt->get_positional() ? nullptr : find_option(opt->get_name());
    if (!row) return CLI::Formatter::make_option_opts(opt);
    bool takes_value = row->kind == ValueKind::One || row->kind == ValueKind::Repeated;
    return takes_value ? fmt::format(" {}", row->placeholder) : std::string();
  }
  std::string make_option_desc(const CLI::Option* opt) const override {
    const OptionRow* row = opt->get_positional() ? nullptr : find_option(opt->get_name());
    if (!row || shown_default(*row).empty()) return opt->get_description();
    return fmt::format("{} [{}]", opt->get_description(), shown_default(*row));
  }
};

/// What the parser collected for each option of the table, as text, before
/// it is converted: the value given, or the table's fallback.
class Args {
 public:
  /// Adds every row of the table to `app`, in the table's order.
  void register_with(CLI::App& app) {
    for (const OptionRow& row : option_table()) {
      std::string_view key = long_name(row);
      std::string names(row.names), help(row.help);
      CLI::Option* opt = nullptr;
      if (key == "--help") {
        opt = app.set_help_flag(names, help);
      } else if (key == "--version") {
        opt = app.set_version_flag(names, "batchpipe " BATCHPIPE_VERSION, help);
      } else if (row.kind == ValueKind::None) {
        opt = app.add_flag(names, flags_[key], help);
      } else if (row.kind == ValueKind::Optional) {
        // CLI11 writes "--stats{human}": the bare flag's value.
        opt = app.add_flag(fmt::format("{}{{{}}}", names, row.fallback), text_[key], help);
      } else if (row.kind == ValueKind::One) {
        text_[key] = std::string(row.fallback);
        opt = app.add_option(names, text_[key], help);
      } else {
        opt = app.add_option(names, lists_[key], help)
                  ->expected(1)
                  ->allow_extra_args(false)  // `-H 'A: b' FILE`, `--post URL FILE`: FILE is an input
                  ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
      }
      opt->group(std::string(section_title(row.section)));
      options_[key] = opt;
    }
  }

  bool given(std::string_view name) const { return option(name)->count() > 0; }
  /// The last value given, or the fallback; "" for neither.
  const std::string& text(std::string_view name) const { return at(text_, name); }
  /// Every value given, in order (ValueKind::Repeated).
  std::vector<std::string>& list(std::string_view name) { return at(lists_, name); }
  bool flag(std::string_view name) const { return at(flags_, name); }
  const CLI::Option* option(std::string_view name) const { return at(options_, name); }

 private:
  /// The entry of `map` for `name`; a name the table lacks is a mistake in cli.cc.
  template <typename Map>
  static auto at(Map& map, std::string_view name) -> decltype((map.find(name)->second)) {
    auto it = map.find(name);
    if (it == map.end()) throw std::logic_error(fmt::format("{} is not an option of this kind in the table", name));
    return it->second;
  }

  // Keyed by long name; the values are bound to CLI11, so they must not move (std::map nodes do not).
  std::map<std::string_view, CLI::Option*, std::less<>> options_;
  std::map<std::string_view, std::string, std::less<>> text_;
  std::map<std::string_view, std::vector<std::string>, std::less<>> lists_;
  std::map<std::string_view, bool, std::less<>> flags_;
};

/// --item-results, --item-failures, --item-index, --item-error,
/// --item-retryable: JSON Pointers and patterns, and which go together.
/// (That they need --post, the option table says.)
void check_item_options(Args& args, Config& config) {
  ItemResultsSpec& spec = config.item_spec;
  for (const char* flag : {"--item-results", "--item-failures", "--item-index", "--item-error"}) {
    if (!args.given(flag)) continue;
    const std::string& pointer = args.text(flag);
    if (auto problem = check_json_pointer(pointer)) throw BadValue{fmt::format("{}: {}", flag, *problem)};
  }
  if (args.given("--item-results")) spec.results = args.text("--item-results");
  if (args.given("--item-failures")) spec.failures = args.text("--item-failures");
  spec.index = args.text("--item-index");
  spec.error = args.text("--item-error");
  config.item_retryable = to_reply_patterns("--item-retryable", args.list("--item-retryable"));
  if (spec.results && spec.failures)
    throw BadValue{"--item-results and --item-failures cannot be used together: a reply lists every record's result "
                   "or only the failed ones"};
  if (!config.reads_items()) {
    for (const char* flag : {"--item-index", "--item-error", "--item-retryable"})
      if (args.given(flag))
        throw BadValue{fmt::format("{}: only applies with --item-results or --item-failures", flag)};
    return;
  }
  const char* flag = spec.results ? "--item-results" : "--item-failures";
  if (spec.results && !args.given("--item-error"))
    throw BadValue{"--item-results: give --item-error POINTER too, the member of a result that marks a failed record "
                   "(/ErrorCode for Firehose and Kinesis)"};
  if (spec.results && args.given("--item-index"))
    throw BadValue{"--item-index: only applies with --item-failures (--item-results has one result per record, in order)"};
  if (config.map) throw BadValue{fmt::format("{}: not with --map, whose answer is one element per record", flag)};
  if (config.format.kind() == FormatKind::Bulk)
    throw BadValue{fmt::format("{}: not with --format bulk, whose _bulk reply batchpipe reads item by item already", flag)};
}

/// --spool, --spool-max, --spool-sync: into `config`, checked. The spool is
/// for what cannot be read again: a regular file among the inputs is
/// refused (--checkpoint resumes those), as is --follow.
void check_spool_options(const Args& args, Config& config) {
  if (!args.given("--spool")) {
    for (const char* name : {"--spool-max", "--spool-sync"})
      if (args.given(name)) throw BadValue{fmt::format("{}: only applies with --spool", name)};
    return;
  }
  if (config.spool.empty()) throw BadValue{"--spool: the directory name is empty"};
  config.spool_max = to_size("--spool-max", args.text("--spool-max"), 1 << 20, uint64_t{1} << 50, "1P");
  config.spool_sync = to_duration("--spool-sync", args.text("--spool-sync"));
  if (config.spool_sync <= Duration::zero()) throw BadValue{"--spool-sync: must be more than 0"};
  if (config.spool_max < config.max_bytes)
    throw BadValue{fmt::format("--spool-max {} is smaller than --max-bytes: a record must fit in the spool",
                               args.text("--spool-max"))};
  if (config.follow) throw BadValue{"--spool: not with --follow; files are resumed with --checkpoint"};
  if (!config.checkpoint.empty()) throw BadValue{"--spool: not with --checkpoint; the spool keeps its own place"};
  for (const std::string& input : config.inputs) {
    struct stat st {};
    if (input != "-" && ::stat(input.c_str(), &st) == 0 && S_ISREG(st.st_mode))
      throw BadValue{fmt::format("--spool: {} is a regular file, which can be read again: spool stdin, pipes and "
                                 "FIFOs, and resume files with --checkpoint",
                                 input)};
  }
}

/// Validation threads when --threads is not given: one a CPU, up to the
/// point where more stopped helping (see README, Performance).
uint32_t default_threads() {
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  return static_cast<uint32_t>(std::clamp<long>(cpus, 1, kDefaultMaxThreads));
}

}  // namespace

CliResult parse_cli(int argc, const char* const* argv) {
  CliResult result;
  Config config;
  CLI::App app{"Read NDJSON records and deliver them in batches: JSON arrays, NDJSON or Elasticsearch _bulk bodies.",
               "batchpipe"};
  app.formatter(std::make_shared<TableFormatter>());
  app.get_formatter()->column_width(24);
  app.footer(kFooter);
  // A scalar option given twice: the last one wins, as with curl and GNU tools.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("FILE", config.inputs, "Input files, read in order; '-' or none reads stdin")
      ->type_name("")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  Args args;
  args.register_with(app);

  try {
    app.parse(argc, argv);
    check_no_option_taken_as_value(argc, argv);
    // Each option's text (given, or the table's fallback), one a line, under the names the
    // conversions below have always used.
    const std::string& size = args.text("--size");
    const std::string& interval = args.text("--interval");
    const std::string& max_bytes = args.text("--max-bytes");
    const std::string& retries = args.text("--retries");
    const std::string& retry_delay = args.text("--retry-delay");
    const std::string& retry_max_delay = args.text("--retry-max-delay");
    const std::string& retry_max_time = args.text("--retry-max-time");
    const std::string& timeout = args.text("--timeout");
    const std::string& grace = args.text("--grace");
    const std::string& rotate_wait = args.text("--rotate-wait");
    const std::string& on_error = args.text("--on-error");
    const std::string& connect_timeout = args.text("--connect-timeout");
    const std::string& permanent_status = args.text("--permanent-status");
    const std::string& retryable_status = args.text("--retryable-status");
    const std::string& rate = args.text("--rate");
    const std::string& parallel = args.text("--parallel");
    const std::string& max_buffer = args.text("--max-buffer");
    const std::string& on_full = args.text("--on-full");
    const std::string& threads = args.text("--threads");
    const std::string& input_format = args.text("--input");
    const std::string& stats = args.text("--stats");
    const std::string& format = args.text("--format");
    const std::string& wrap = args.text("--wrap");
    const std::string& bulk_action = args.text("--bulk-action");
    const std::string& bisect_on = args.text("--bisect-on");
    std::string on_invalid = args.text("--on-invalid");
    std::string method = args.text("--method");
    const std::vector<std::string>& headers = args.list("--header");
    const std::vector<std::string>& env = args.list("--env");
    const std::string& max_keys = args.text("--max-keys");
    // Options whose text is the setting.
    config.exec_command = args.text("--exec");
    config.post_urls = args.list("--post");
    config.cacert = args.text("--cacert");
    config.cert = args.text("--cert");
    config.key = args.text("--key");
    config.dead_letter = args.text("--dead-letter");
    config.dead_letter_reasons = args.text("--dead-letter-reasons");
    config.metrics_file = args.text("--metrics-file");
    config.checkpoint = args.text("--checkpoint");
    config.spool = args.text("--spool");
    config.progress = args.flag("--progress");
    config.quiet = args.flag("--quiet");
    config.follow = args.flag("--follow");
    config.insecure = args.flag("--insecure");
    config.verbose = args.flag("--verbose");
    config.map = args.flag("--map");
    config.map_with_input = args.flag("--map-with-input");

    if (!config.post_urls.empty()) config.post_url = config.post_urls.front();
    if (args.given("--exec") && args.given("--post"))
      throw BadValue{"--exec and --post cannot be used together: batches go to one place"};
    config.batch_size = to_count("--size", size);
    config.interval = to_duration("--interval", interval);
    if (bare_number(interval) && config.interval >= std::chrono::seconds(60))
      result.warnings.push_back(
          fmt::format("--interval {}: {} seconds; did you mean {}ms?", interval, interval, interval));
    config.max_bytes = to_size("--max-bytes", max_bytes, kMinMaxBytes);
    on_invalid = to_mode("--on-invalid", on_invalid, {"skip", "fail", "quote"});
    config.on_invalid = on_invalid == "fail"    ? InvalidMode::Fail
                        : on_invalid == "quote" ? InvalidMode::Quote
                                                : InvalidMode::Skip;
    for (const OptionRow& row : option_table())
      if (row.section == Section::Delivery && args.given(long_name(row)) && !config.delivers())
        throw BadValue{fmt::format("{}: only applies with --exec or --post", long_name(row))};
    for (const OptionRow& row : option_table())
      if (row.section == Section::Http && args.given(long_name(row)) && config.post_url.empty())
        throw BadValue{fmt::format("{}: only applies with --post", long_name(row))};
    if (args.given("--exec") && config.exec_command.empty()) throw BadValue{"--exec: the command is empty"};
    if (args.given("--post")) {
      bool any_https = false;
      for (size_t i = 0; i < config.post_urls.size(); ++i) {
        const std::string& u = config.post_urls[i];
        if (std::find(config.post_urls.begin(), config.post_urls.begin() + static_cast<long>(i), u) !=
            config.post_urls.begin() + static_cast<long>(i))
          throw BadValue{fmt::format("--post: {} is given twice", u)};
        // Fields are checked filled in, as they will be sent; record fields as a sample value.
        std::string parse_error;
        auto routed = FieldTemplate::parse(u, TextPlace::UrlPath, parse_error);
        if (!routed) throw BadValue{fmt::format("--post: {}", parse_error)};
        if (routed->uses_record() && config.post_urls.size() > 1)
          throw BadValue{"--post: record fields ({.name}) route by key to one URL; give one --post URL with them"};
        UrlCheck url = check_post_url(expand_template(routed->sample("x"), {"0123456789abcdef-1", 1, 1}));
        if (!url.error.empty()) throw BadValue{url.error};
        result.warnings.insert(result.warnings.end(), url.warnings.begin(), url.warnings.end());
        any_https = any_https || url.https;
      }
      if (!any_https && config.insecure) {
        result.warnings.push_back("--insecure: has no effect on an http:// URL, which has no TLS");
        config.insecure = false;  // and no "certificates are not verified" warning either
      }
      if (!any_https && !config.cacert.empty())
        result.warnings.push_back("--cacert: has no effect on an http:// URL, which has no TLS");
      if (!any_https && !config.cert.empty())
        result.warnings.push_back("--cert: has no effect on an http:// URL, which has no TLS");
    }
    if (args.given("--metrics-file") && config.metrics_file.empty()) throw BadValue{"--metrics-file: the path is empty"};
    for (const std::string& text : args.list("--metrics-label")) {
      std::string error;
      std::optional<MetricsLabel> label = parse_metrics_label(text, error);
      if (!label) throw BadValue{error};
      for (const MetricsLabel& l : config.metrics_labels)
        if (l.first == label->first) throw BadValue{fmt::format("--metrics-label: {} is given twice", l.first)};
      config.metrics_labels.push_back(std::move(*label));
    }
    if (!config.metrics_labels.empty() && config.metrics_file.empty())
      result.warnings.push_back("--metrics-label: has no effect without --metrics-file");
    if (args.given("--checkpoint") && config.checkpoint.empty()) throw BadValue{"--checkpoint: the path is empty"};
    config.header_parts = to_header_parts(headers, config.secrets);
    for (const HeaderPart& part : config.header_parts)
      config.headers.insert(config.headers.end(), part.lines.begin(), part.lines.end());
    if (app.count("--compress")) {
      std::string error;
      auto codec = parse_codec(args.text("--compress"), error);
      if (!codec) throw BadValue{error};
      config.compress = *codec;
    }
    if (!config.cacert.empty()) check_cacert(config.cacert);
    if (args.given("--cert") && config.cert.empty()) throw BadValue{"--cert: the path is empty"};
    if (args.given("--key") && config.key.empty()) throw BadValue{"--key: the path is empty"};
    check_client_certificate(config);
    if (args.given("--aws-sigv4")) config.aws = to_aws_signing(args.text("--aws-sigv4"), config);
    config.connect_timeout = to_duration("--connect-timeout", connect_timeout);
    config.retry.retries = to_retries(retries);
    // A shipper rides out outages: with -F, batches are retried until
    // delivered unless --retries says otherwise (the wait is capped by
    // --retry-max-delay, and reading waits while --max-buffer is full).
    if (config.follow && !args.given("--retries")) config.retry.retries = kRetriesForever;
    config.retry.delay = to_duration("--retry-delay", retry_delay);
    config.retry.max_delay = to_duration("--retry-max-delay", retry_max_delay);
    config.retry.max_time = to_duration("--retry-max-time", retry_max_time);
    config.timeout = timeout.empty() ? (config.post_url.empty() ? Duration::zero() : std::chrono::seconds(30))
                                     : to_duration("--timeout", timeout);
    config.grace = to_duration("--grace", grace);
    config.rotate_wait = to_duration("--rotate-wait", rotate_wait);
    if (args.given("--rotate-wait") && !config.follow)
      result.warnings.push_back("--rotate-wait: only applies with --follow");
    config.stop_on_error = to_mode("--on-error", on_error, {"continue", "stop"}) == "stop";
    if (parallel == "auto" || parallel.starts_with("auto:")) {
      config.parallel_auto = true;
      config.parallel = parallel == "auto" ? kDefaultAutoMax
                                           : static_cast<uint32_t>(std::min<uint64_t>(
                                                 to_count("--parallel auto:MAX", parallel.substr(5)), kMaxParallel + 1));
    } else {
      config.parallel = static_cast<uint32_t>(std::min<uint64_t>(to_count("--parallel", parallel), kMaxParallel + 1));
    }
    if (!rate.empty()) config.rate = to_rate(rate);
    config.status_rules = to_status_rules(permanent_status, retryable_status, !config.exec_command.empty());
    config.bisect_on = to_bisect_on(args.given("--bisect-on"), bisect_on, !config.exec_command.empty());
    config.reply_rules.retryable = to_reply_patterns("--retryable-reply", args.list("--retryable-reply"));
    config.reply_rules.bisect = to_reply_patterns("--bisect-reply", args.list("--bisect-reply"));
    config.reply_rules.permanent = to_reply_patterns("--permanent-reply", args.list("--permanent-reply"));
    if (config.parallel > kMaxParallel)
      throw BadValue{fmt::format("--parallel: {} is too large (at most {})", parallel, kMaxParallel)};
    config.max_buffer = to_size("--max-buffer", max_buffer, 1 << 20, uint64_t{1} << 40, "1T");
    // The default --max-bytes (8M) follows a smaller --max-buffer; a value
    // the user gave must fit in it.
    if (!args.given("--max-bytes") && config.max_bytes > config.max_buffer) config.max_bytes = config.max_buffer;
    if (config.max_bytes > config.max_buffer)
      throw BadValue{fmt::format("--max-bytes {} is larger than --max-buffer {}: a batch must fit in the buffer; "
                                 "raise --max-buffer or lower --max-bytes",
                                 max_bytes, max_buffer)};
    if (std::string error; !plan_codecs(config.compress, config.max_buffer, 1, error)) throw BadValue{error};
    config.drop_when_full = to_mode("--on-full", on_full, {"block", "drop"}) == "drop";
    config.max_keys = to_count("--max-keys", max_keys);
    check_routes(config, format, wrap, bulk_action, env);
    auto body = make_body_format(to_mode("--format", format, {"array", "ndjson", "bulk"}), wrap, bulk_action);
    if (auto* e = std::get_if<std::string>(&body)) throw BadValue{*e};
    config.format = std::get<BodyFormat>(std::move(body));
    if (config.format.max_record_size(config.max_bytes) == 0)
      throw BadValue{fmt::format("--max-bytes {} cannot hold a record with {} ({} bytes); give at least {}", max_bytes,
                                 config.format.frame_words(), config.format.body_size(1, 0),
                                 config.format.body_size(1, 1))};
    std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::toupper(c); });
    config.method = to_mode("--method", method, {"POST", "PUT"});
    if (config.map_with_input) config.map = true;
    if (config.map && config.format.kind() == FormatKind::Bulk)
      throw BadValue{"--map: a _bulk answer is not one element per record; use --format array or ndjson"};
    check_item_options(args, config);
    config.text_input = to_mode("--input", input_format, {"json", "text"}) == "text";
    if (!stats.empty()) to_mode("--stats", stats, {"human", "json"});
    config.stats = stats == "json" ? StatsFormat::Json : stats == "human" ? StatsFormat::Human : StatsFormat::None;
    config.threads = threads.empty() ? default_threads() : static_cast<uint32_t>(to_count("--threads", threads));
    if (config.threads > kMaxThreads)
      throw BadValue{fmt::format("--threads: {} is too large (at most {})", threads, kMaxThreads)};
    if (config.inputs.empty()) config.inputs.push_back("-");
    check_spool_options(args, config);
    if (config.follow && config.inputs == std::vector<std::string>{"-"})
      result.warnings.push_back("--follow: stdin is read to its end as always; --follow follows files");
    if (!config.checkpoint.empty() && std::find(config.inputs.begin(), config.inputs.end(), "-") != config.inputs.end())
      result.warnings.push_back("--checkpoint: stdin cannot be resumed: what it sends is read once, and keeping it "
                                "until delivered is up to its producer");
    if (args.given("--dead-letter-reasons") && config.dead_letter_reasons.empty())
      throw BadValue{"--dead-letter-reasons: the path is empty"};
    if (!config.dead_letter_reasons.empty() && config.dead_letter.empty())
      throw BadValue{"--dead-letter-reasons: only applies with --dead-letter, whose records it explains"};
    if (std::string clash = check_output_files(config); !clash.empty()) throw BadValue{clash};
  } catch (const CLI::CallForHelp&) {
    result.out = app.help();
    result.warnings.clear();
    return result;
  } catch (const CLI::CallForVersion&) {
    result.out = "batchpipe " BATCHPIPE_VERSION "\n";
    result.warnings.clear();
    return result;
  } catch (const CLI::ParseError& e) {
    result.status = ExitStatus::Usage;
    result.err = fmt::format("{} (try 'batchpipe --help')", usage_message(app, e));
    result.warnings.clear();
    return result;
  } catch (const BadValue& e) {
    result.status = ExitStatus::Usage;
    result.err = e.message;
    result.warnings.clear();
    return result;
  }
  result.config = std::move(config);
  return result;
}

}  // namespace batchpipe
