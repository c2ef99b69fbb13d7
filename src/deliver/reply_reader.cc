#include "deliver/reply_reader.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "json/answer_array.h"

namespace batchpipe {
namespace {

class BulkReader : public ReplyReader {
 public:
  ReplyVerdict read(const Batch& sent, std::string_view reply) const override {
    ReplyVerdict v;
    auto parsed = read_bulk_reply(reply, sent.records);
    if (auto* error = std::get_if<std::string>(&parsed)) {
      v.broken = "the _bulk response cannot be used: " + *error;
      return v;
    }
    BulkReply& r = std::get<BulkReply>(parsed);
    if (r.stored < r.items.size()) v.items = std::move(r.items);
    return v;
  }
};

class MapReader : public ReplyReader {
 public:
  bool keeps_answers() const override { return true; }
  ReplyVerdict read(const Batch& sent, std::string_view reply) const override {
    ReplyVerdict v;
    auto split = split_answer_array(reply);
    if (auto* error = std::get_if<std::string>(&split)) {
      if (error->starts_with("not an array")) {  // valid JSON of another kind: no record has an answer
        v.items.assign(sent.records, {ItemFate::Rejected, fmt::format("no answer: the answer is {}", *error)});
      } else {
        v.broken = "the answer cannot be used: " + *error;
      }
      return v;
    }
    auto& spans = std::get<AnswerSpans>(split).elements;
    size_t got = spans.size();
    if (got > sent.records) {
      v.warning = fmt::format("{} answers for {} record{}: the last {} ignored", got, sent.records,
                              sent.records == 1 ? "" : "s", got - sent.records);
      spans.resize(sent.records);
    }
    if (got < sent.records) {
      v.items.assign(sent.records, {ItemFate::Stored, {}});
      for (size_t i = got; i < sent.records; ++i)
        v.items[i] = {ItemFate::Rejected, fmt::format("no answer: {} answer{} for {} record{}", got, got == 1 ? "" : "s",
                                                      sent.records, sent.records == 1 ? "" : "s")};
    }
    v.answers = std::move(spans);
    return v;
  }
};

class ItemReader : public ReplyReader {
 public:
  explicit ItemReader(ItemRules rules) : rules_(std::move(rules)) {}
  ReplyVerdict read(const Batch& sent, std::string_view reply) const override {
    ReplyVerdict v;
    auto parsed = read_item_results(reply, rules_.spec, sent.records);
    if (auto* error = std::get_if<std::string>(&parsed)) {
      v.broken = "the reply's item results cannot be used: " + *error;
      return v;
    }
    auto& failed = std::get<std::vector<FailedItem>>(parsed);
    if (failed.empty()) return v;
    v.items.assign(sent.records, {ItemFate::Stored, {}});
    for (FailedItem& item : failed) {
      bool retry = std::any_of(rules_.retryable.begin(), rules_.retryable.end(),
                               [&](const ReplyPattern& p) { return p.found_in(item.error); });
      v.items[item.index] = {retry ? ItemFate::Retry : ItemFate::Rejected, std::move(item.reason)};
    }
    return v;
  }

 private:
  ItemRules rules_;
};

}  // namespace

std::unique_ptr<ReplyReader> make_item_reader(ItemRules rules) { return std::make_unique<ItemReader>(std::move(rules)); }
std::unique_ptr<ReplyReader> make_bulk_reader() { return std::make_unique<BulkReader>(); }
std::unique_ptr<ReplyReader> make_map_reader() { return std::make_unique<MapReader>(); }

bool read_whole(int fd, std::string& out) {
  out.clear();
  char buffer[1 << 16];
  for (off_t offset = 0;;) {
    ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n == 0;
    out.append(buffer, static_cast<size_t>(n));
    offset += n;
  }
}

}  // namespace batchpipe
