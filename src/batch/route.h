// Routing by field: where a record goes when --post, -H, --wrap, --bulk-action
// or --env take values from it. The Router renders a record's templates into
// a key; records whose keys differ never share a batch, and every batch
// carries the Route of its key (its URL, headers, environment and body
// format), which the sinks use in place of the run's own. A --bulk-action
// with record fields is not part of the key: each record's action line is
// rendered on its own and goes before it in whatever batch it joins.
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "batch/body_format.h"
#include "batch/field_template.h"

namespace batchpipe {

/// The most keys with an open batch by default (--max-keys).
inline constexpr uint64_t kDefaultMaxKeys = 1000;

struct Route {
  std::string key;                   ///< tells the batches of one route from another's
  std::string url;                   ///< the --post URL, batch fields as kBatchMark pairs; empty: the run's
  std::vector<std::string> headers;  ///< every -H line rendered (batch fields as marks); used when routed_headers
  bool routed_headers = false;
  std::vector<std::string> env;      ///< NAME=value for --exec, from --env
  std::optional<BodyFormat> format;  ///< --wrap rendered (with record fields); nothing: the run's
  /// Not empty: why the records of this route cannot be sent. Its batches
  /// fail at once and for good, into the dead-letter file, with this reason.
  std::string error;

  /// About the memory it holds (itself, its strings, its shared pointer's
  /// block): each batch of the route is charged it (see Batch::memory()).
  uint64_t memory() const;
};

/// The templates of a run, as given on the command line.
struct RouteTemplates {
  std::string url;                   ///< --post (one URL)
  std::vector<std::string> headers;  ///< -H lines, "Name: value"
  std::vector<std::string> env;      ///< --env NAME=TEMPLATE
  std::string format;                ///< --format word: array, ndjson, bulk
  std::string wrap;                  ///< --wrap
  std::string bulk_action;           ///< --bulk-action
};

class Router {
 public:
  /// Nothing, with `error` set, if a template cannot be parsed or takes
  /// record fields where it may not (a URL's scheme or host, a header name).
  static std::optional<Router> make(const RouteTemplates& templates, std::string& error);

  /// True if any template takes values from records: batches are then kept per key.
  bool routes() const { return routes_; }
  /// True if --format bulk's --bulk-action takes values from records: each
  /// record gets an action line of its own (render_action()), in whatever
  /// batch its key puts it; the action never splits batches.
  bool per_record_action() const { return action_.has_value(); }

  /// Renders the action line of one record (without its newline) into
  /// `out`; false, with `error` saying why, if the record cannot go. Empty
  /// `out` and true without per_record_action().
  bool render_action(FieldSource& fields, std::time_t now, std::string& out, std::string& error) const;

  /// Renders `fields` (one record's, read at `now`) into `key`; an empty
  /// `error` if the record can go, else why not (the key then names that).
  void render(FieldSource& fields, std::time_t now, std::string& key, std::string& error);

  /// The Route of a key render() gave (with its error, if any).
  std::shared_ptr<const Route> make_route(std::string_view key, const std::string& error) const;

 private:
  struct Part {
    enum Kind { Url, Header, Env, Wrap } kind;
    FieldTemplate text;
    std::string name;  ///< Env: the variable
  };
  std::vector<Part> parts_;
  std::optional<FieldTemplate> action_;  ///< --bulk-action with record fields: rendered per record
  std::string format_;
  bool routes_ = false;
  std::string scratch_;
};

}  // namespace batchpipe
