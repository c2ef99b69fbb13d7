#include "batch/route.h"

#include <variant>

#include <fmt/format.h>

#include "cli/format_options.h"

namespace batchpipe {
namespace {

/// The key is the rendered parts, each ended by a NUL (no rendered part
/// holds one: every place encodes or refuses control bytes); a record that
/// cannot go has a key of its own per reason.
constexpr char kEnd = '\0';
constexpr char kFailed = '\x02';

/// The rendered parts of `key`, in order.
std::vector<std::string_view> split_key(std::string_view key) {
  std::vector<std::string_view> out;
  while (!key.empty()) {
    size_t end = key.find(kEnd);
    out.push_back(key.substr(0, end));
    if (end == std::string_view::npos) break;
    key.remove_prefix(end + 1);
  }
  return out;
}

}  // namespace

std::optional<Router> Router::make(const RouteTemplates& t, std::string& error) {
  Router r;
  r.format_ = t.format;
  auto add = [&](Part::Kind kind, const std::string& text, TextPlace place, std::string name,
                 std::string_view what) -> bool {
    std::string e;
    auto parsed = FieldTemplate::parse(text, place, e);
    if (!parsed) {
      error = fmt::format("{}: {}", what, e);
      return false;
    }
    if (parsed->uses_record()) r.routes_ = true;
    r.parts_.push_back({kind, std::move(*parsed), std::move(name)});
    return true;
  };
  if (!t.url.empty()) {
    // Record values go in the path or the query, percent-encoded; never in
    // the scheme or the host.
    size_t scheme = t.url.find("://");
    size_t path = scheme == std::string::npos ? 0 : t.url.find_first_of("/?#", scheme + 3);
    std::string authority = t.url.substr(0, path == std::string::npos ? t.url.size() : path);
    if (FieldTemplate::has_record_fields(authority)) {
      error = "--post: record fields ({.name}, {now:...}) go in the URL's path or query, not its scheme or host";
      return std::nullopt;
    }
    if (!add(Part::Url, t.url, TextPlace::UrlPath, {}, "--post")) return std::nullopt;
  }
  for (const std::string& h : t.headers) {
    size_t colon = h.find(':');
    if (FieldTemplate::has_record_fields(h.substr(0, colon))) {
      error = fmt::format("--header '{}': record fields go in a header's value, not its name", h);
      return std::nullopt;
    }
    if (!add(Part::Header, h, TextPlace::Header, {}, "--header")) return std::nullopt;
  }
  for (const std::string& e : t.env) {
    size_t eq = e.find('=');
    std::string name = e.substr(0, eq);
    if (!add(Part::Env, e.substr(eq + 1), TextPlace::Env, name, "--env")) return std::nullopt;
  }
  // --wrap and --bulk-action are the body's: a batch field is not filled in
  // there, and one without record fields is the run's own (no part of a key).
  auto body_part = [&](const std::string& text, std::string_view what) -> std::optional<FieldTemplate> {
    std::string e;
    auto parsed = FieldTemplate::parse(text, TextPlace::Json, e);
    if (!parsed) {
      error = fmt::format("{}: {}", what, e);
      return std::nullopt;
    }
    std::string sample = parsed->sample("x");
    for (const char* batch_field : {"{batch_id}", "{batch}", "{attempt}"})
      if (parsed->uses_record() && sample.find(batch_field) != std::string::npos) {
        error = fmt::format("{}: {} is not filled in a text that takes record fields{}", what, batch_field,
                            what == "--bulk-action" ? "; use {record_id} to name a record" : "");
        return std::nullopt;
      }
    return parsed;
  };
  if (!t.wrap.empty()) {
    auto wrap = body_part(t.wrap, "--wrap");
    if (!wrap) return std::nullopt;
    if (wrap->uses_record()) {
      r.routes_ = true;
      r.parts_.push_back({Part::Wrap, std::move(*wrap), {}});
    }
  }
  if (!t.bulk_action.empty()) {
    auto action = body_part(t.bulk_action, "--bulk-action");
    if (!action) return std::nullopt;
    // _bulk names the index of each item on its own line: an action with
    // record fields is rendered per record and never splits batches.
    if (action->uses_record()) r.action_ = std::move(*action);
  }
  return r;
}

void Router::render(FieldSource& fields, std::time_t now, std::string& key, std::string& error) {
  key.clear();
  error.clear();
  for (const Part& p : parts_) {
    if (!p.text.render(fields, now, key, error)) {
      key.assign(1, kFailed);
      key += error;
      return;
    }
    key.push_back(kEnd);
  }
}

bool Router::render_action(FieldSource& fields, std::time_t now, std::string& out, std::string& error) const {
  out.clear();
  error.clear();
  if (!action_) return true;
  if (action_->render(fields, now, out, error)) return true;
  error = "--bulk-action: " + error;
  return false;
}

std::shared_ptr<const Route> Router::make_route(std::string_view key, const std::string& error) const {
  auto route = std::make_shared<Route>();
  route->key = std::string(key);
  if (!key.empty() && key[0] == kFailed) {
    route->error = error.empty() ? std::string(key.substr(1)) : error;
    return route;
  }
  std::vector<std::string_view> rendered = split_key(key);
  std::string wrap;
  for (size_t i = 0; i < parts_.size() && i < rendered.size(); ++i) {
    const Part& p = parts_[i];
    std::string text(rendered[i]);
    switch (p.kind) {
      case Part::Url: route->url = std::move(text); break;
      case Part::Header:
        route->headers.push_back(std::move(text));
        route->routed_headers = true;
        break;
      case Part::Env: route->env.push_back(p.name + "=" + text); break;
      case Part::Wrap: wrap = std::move(text); break;
    }
  }
  if (!wrap.empty()) {
    auto made = make_body_format(format_, wrap, "");
    if (auto* f = std::get_if<BodyFormat>(&made)) route->format = std::move(*f);
    else route->error = std::get<std::string>(made);
  }
  return route;
}

uint64_t Route::memory() const {
  constexpr uint64_t kBlock = 48;  // make_shared's control block and the allocator's header
  auto text = [](const std::string& t) { return t.capacity() > 15 ? t.capacity() + 17 : 0; };
  uint64_t sum = sizeof(Route) + kBlock + text(key) + text(url) + text(error);
  for (const std::string& h : headers) sum += sizeof(std::string) + text(h);
  for (const std::string& e : env) sum += sizeof(std::string) + text(e);
  if (format) sum += text(format->open()) + text(format->close()) + text(format->separator()) + text(format->after());
  return sum;
}

}  // namespace batchpipe
