#include "deliver/failure_rules.h"

#include <regex.h>

#include <fmt/format.h>

namespace batchpipe {

struct ReplyPattern::Compiled {
  regex_t regex{};
  ~Compiled() { ::regfree(&regex); }
};

std::optional<ReplyPattern> ReplyPattern::compile(std::string_view text, std::string& error) {
  if (text.empty()) {
    error = "an empty expression matches every reply";
    return std::nullopt;
  }
  auto compiled = std::make_shared<Compiled>();
  std::string copy(text);
  if (int rc = ::regcomp(&compiled->regex, copy.c_str(), REG_EXTENDED | REG_NOSUB); rc != 0) {
    char why[256];
    ::regerror(rc, &compiled->regex, why, sizeof why);
    error = fmt::format("'{}' is not a regular expression (grep -E's kind): {}", text, why);
    return std::nullopt;
  }
  ReplyPattern p;
  p.text_ = std::move(copy);
  p.compiled_ = std::move(compiled);
  return p;
}

bool ReplyPattern::found_in(std::string_view reply) const {
  regmatch_t range[1];
  range[0].rm_so = 0;
  range[0].rm_eo = static_cast<regoff_t>(reply.size());
  // REG_STARTEND: the reply need not end in a NUL, and may hold some.
  return ::regexec(&compiled_->regex, reply.data() ? reply.data() : "", 1, range, REG_STARTEND) == 0;
}

Ruling FailureRules::decide(int status, std::string_view reply) const {
  auto first = [&](const std::vector<ReplyPattern>& list) -> const ReplyPattern* {
    for (const ReplyPattern& p : list)
      if (p.found_in(reply)) return &p;
    return nullptr;
  };
  Ruling r;
  if (const ReplyPattern* p = first(this->reply.retryable)) {
    r.outcome = Outcome::Retryable;
    r.rule = fmt::format("--retryable-reply '{}'", p->text());
  } else if (const ReplyPattern* p = first(this->reply.bisect)) {
    r.bisect = true;
    r.outcome = status ? this->status.lookup(status) : std::nullopt;
    r.rule = fmt::format("--bisect-reply '{}'", p->text());
  } else if (const ReplyPattern* p = first(this->reply.permanent)) {
    r.outcome = Outcome::Permanent;
    r.rule = fmt::format("--permanent-reply '{}'", p->text());
  } else if (status != 0) {
    r.outcome = this->status.lookup(status);
    r.bisect = bisect.contains(status);
  }
  return r;
}

}  // namespace batchpipe
