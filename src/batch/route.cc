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
  if (!t.wrap.empty() && !add(Part::Wrap, t.wrap, TextPlace::Json, {}, "--wrap")) return std::nullopt;
  if (!t.bulk_action.empty()) {
    std::string e;
    auto action = FieldTemplate::parse(t.bulk_action, TextPlace::Json, e);
    if (!action) {
      error = fmt::format("--bulk-action: {}", e);
      return std::nullopt;
    }
    if (action->uses_record()) {
      // _bulk names the index of each item on its own line: the action is
      // rendered per record and never splits batches.
      std::string sample = action->sample("x");
      for (const char* batch_field : {"{batch_id}", "{batch}", "{attempt}"})
        if (sample.find(batch_field) != std::string::npos) {
          error = fmt::format("--bulk-action: {} is not filled in an action line that takes record fields; use "
                              "{{record_id}} to name a record",
                              batch_field);
          return std::nullopt;
        }
      r.action_ = std::move(*action);
    } else {
      r.parts_.push_back({Part::Action, std::move(*action), {}});
    }
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
  std::string wrap, action;
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
      case Part::Action: action = std::move(text); break;
    }
  }
  if (!wrap.empty() || !action.empty()) {
    auto made = make_body_format(format_, wrap, action);
    if (auto* f = std::get_if<BodyFormat>(&made)) route->format = std::move(*f);
    else route->error = std::get<std::string>(made);
  }
  return route;
}

}  // namespace batchpipe
