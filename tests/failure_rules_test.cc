// --retryable-reply, --bisect-reply, --permanent-reply and how they stand
// with the status rules.
#include <catch2/catch.hpp>

#include "deliver/failure_rules.h"

using namespace batchpipe;

namespace {

ReplyPattern pattern(const char* text) {
  std::string error;
  auto p = ReplyPattern::compile(text, error);
  INFO(error);
  REQUIRE(p);
  return *p;
}

StatusList list(const char* text) {
  std::string error;
  auto l = StatusList::parse(text, 1, 599, error);
  REQUIRE(l);
  return *l;
}

// What ClickHouse 18.16 and Loki answer.
constexpr std::string_view kParseError =
    "Code: 27, e.displayText() = DB::Exception: Cannot parse input: expected { before: x\\n: (at row 3)\n";
constexpr std::string_view kTooManyParts =
    "Code: 252, e.displayText() = DB::Exception: Too many parts (300). Merges are processing significantly slower\n";
constexpr std::string_view kOutOfOrder = "entry out of order for stream {app=\"x\"}";

/// The README's examples, with --bisect-on 500 as well.
FailureRules readme_rules() {
  FailureRules r;
  r.reply.bisect = {pattern("Code: 27[^0-9]")};
  r.reply.retryable = {pattern("Code: 252|TOO_MANY_PARTS")};
  r.reply.permanent = {pattern("entry out of order")};
  return r;
}

}  // namespace

TEST_CASE("reply patterns are extended regular expressions searched anywhere in the reply") {
  CHECK(pattern("Code: 27").found_in(kParseError));
  CHECK_FALSE(pattern("^Cannot").found_in(kParseError));
  CHECK(pattern("(at row [0-9]+)").found_in(kParseError));
  CHECK(pattern("x|y").found_in("y"));
  CHECK_FALSE(pattern("abc").found_in(""));
  // A reply may hold NUL bytes, and need not end in one.
  std::string with_nul("before\0after", 12);
  CHECK(pattern("after").found_in(with_nul));
  std::string_view cut = std::string_view("abcdef").substr(0, 3);
  CHECK_FALSE(pattern("abcd").found_in(cut));
}

TEST_CASE("bad or empty reply patterns are refused with the reason") {
  std::string error;
  CHECK_FALSE(ReplyPattern::compile("", error));
  CHECK(error.find("every reply") != std::string::npos);
  CHECK_FALSE(ReplyPattern::compile("(unclosed", error));
  CHECK(error.find("'(unclosed' is not a regular expression") != std::string::npos);
  CHECK_FALSE(ReplyPattern::compile("[a-", error));
}

TEST_CASE("the README's examples: ClickHouse's parse error splits, too many parts retries, Loki's order is permanent") {
  FailureRules r = readme_rules();
  Ruling parse = r.decide(500, kParseError);
  CHECK(parse.bisect);
  CHECK_FALSE(parse.outcome);  // when it cannot be split, 500's own rule stands
  CHECK(parse.rule == "--bisect-reply 'Code: 27[^0-9]'");
  Ruling parts = r.decide(500, kTooManyParts);
  CHECK_FALSE(parts.bisect);
  CHECK(parts.outcome == Outcome::Retryable);
  Ruling order = r.decide(400, kOutOfOrder);
  CHECK(order.outcome == Outcome::Permanent);
  CHECK_FALSE(order.bisect);
  Ruling other = r.decide(500, "Code: 241, Memory limit exceeded");
  CHECK_FALSE(other.outcome);
  CHECK_FALSE(other.bisect);
  CHECK(other.rule.empty());
}

TEST_CASE("reply rules decide before the status rules") {
  FailureRules r = readme_rules();
  r.status.permanent = list("500");
  r.bisect = list("500");
  // No reply rule matches: the status rules.
  Ruling plain = r.decide(500, "Internal error");
  CHECK(plain.outcome == Outcome::Permanent);
  CHECK(plain.bisect);
  CHECK(plain.rule.empty());
  // A retryable reply is retried, neither split nor given up.
  Ruling parts = r.decide(500, kTooManyParts);
  CHECK(parts.outcome == Outcome::Retryable);
  CHECK_FALSE(parts.bisect);
  // A permanent reply is not split, though its status is in --bisect-on.
  Ruling order = r.decide(500, kOutOfOrder);
  CHECK(order.outcome == Outcome::Permanent);
  CHECK_FALSE(order.bisect);
  // A bisect reply keeps the status rule's outcome for when it cannot split.
  Ruling parse = r.decide(500, kParseError);
  CHECK(parse.bisect);
  CHECK(parse.outcome == Outcome::Permanent);
}

TEST_CASE("when several reply rules match, retryable comes first, then bisect, then permanent") {
  FailureRules r;
  r.reply.permanent = {pattern("x")};
  CHECK(r.decide(400, "x").outcome == Outcome::Permanent);
  r.reply.bisect = {pattern("x")};
  CHECK(r.decide(400, "x").bisect);
  CHECK_FALSE(r.decide(400, "x").outcome);
  r.reply.retryable = {pattern("nothing"), pattern("x")};
  Ruling both = r.decide(400, "x");
  CHECK(both.outcome == Outcome::Retryable);
  CHECK_FALSE(both.bisect);
  CHECK(both.rule == "--retryable-reply 'x'");
}

TEST_CASE("exit statuses: --bisect-on 3 for psql, and a status of 0 applies no status rule") {
  FailureRules r;
  r.bisect = list("3");
  r.status.retryable = list("3");
  CHECK(r.decide(3, "").bisect);
  CHECK(r.decide(3, "").outcome == Outcome::Retryable);
  CHECK_FALSE(r.decide(1, "").bisect);
  CHECK_FALSE(r.decide(0, "").bisect);
  CHECK_FALSE(r.decide(0, "").outcome);
  // No rules at all: nothing to say.
  Ruling none = FailureRules{}.decide(500, kParseError);
  CHECK_FALSE(none.outcome);
  CHECK_FALSE(none.bisect);
}
