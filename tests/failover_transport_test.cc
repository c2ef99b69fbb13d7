// Several --post URLs: which URL each request of an attempt goes to, with
// scripted per-URL transports. Cool-downs are an hour, so the real clock
// the set reads never ends one during a test.
#include <catch2/catch.hpp>

#include <deque>

#include "deliver/failover_transport.h"
#include "base/diagnostics.h"

using namespace batchpipe;
using namespace std::chrono_literals;

namespace {

/// Answers from a list, then delivers; logs the URL of every request.
class ScriptedUrl : public Transport {
 public:
  ScriptedUrl(size_t url, std::vector<size_t>& log) : url_(url), log_(log) {}
  AttemptResult attempt(const Batch&, const AttemptInfo&, AttemptControl&) override {
    log_.push_back(url_);
    if (answers.empty()) return {Outcome::Delivered, "", std::nullopt};
    AttemptResult r = std::move(answers.front());
    answers.pop_front();
    return r;
  }
  std::deque<AttemptResult> answers;

 private:
  size_t url_;
  std::vector<size_t>& log_;
};

AttemptResult down(const char* detail = "connection refused") {
  AttemptResult r{Outcome::Retryable, detail, std::nullopt};
  r.receiver_down = true;
  return r;
}

struct Cluster {
  explicit Cluster(size_t n) {
    diag::set_quiet(true);
    std::vector<std::unique_ptr<Transport>> per_url;
    std::vector<std::string> names;
    for (size_t i = 0; i < n; ++i) {
      auto t = std::make_unique<ScriptedUrl>(i, log);
      urls.push_back(t.get());
      per_url.push_back(std::move(t));
      names.push_back("127.0.0.1:" + std::to_string(8000 + i));
    }
    set = std::make_shared<UpstreamSet>(std::move(names), 1h, 1h, metrics);
    transport = std::make_unique<FailoverTransport>(std::move(per_url), set);
  }
  AttemptResult send() { return transport->attempt(batch, {1, 1, "run-1"}, control); }

  Metrics metrics;
  std::vector<size_t> log;
  std::vector<ScriptedUrl*> urls;
  std::shared_ptr<UpstreamSet> set;
  std::unique_ptr<FailoverTransport> transport;
  Batch batch;
  AttemptControl control;
};

}  // namespace

TEST_CASE("requests take turns over the URLs", "[failover]") {
  Cluster c(3);
  for (int i = 0; i < 6; ++i) CHECK(c.send().outcome == Outcome::Delivered);
  CHECK(c.log == std::vector<size_t>{0, 1, 2, 0, 1, 2});
  CHECK(c.metrics.upstreams[1].requests.get() == 2);
}

TEST_CASE("a node down: the same attempt goes on to the next, which is then used alone", "[failover]") {
  Cluster c(3);
  c.urls[0]->answers.push_back(down());
  CHECK(c.send().outcome == Outcome::Delivered);  // one attempt, two requests
  CHECK(c.log == std::vector<size_t>{0, 1});
  CHECK(c.metrics.upstreams[0].failures.get() == 1);
  CHECK(c.metrics.upstreams[0].up.get() == 0);
  c.log.clear();
  for (int i = 0; i < 4; ++i) c.send();
  CHECK(c.log == std::vector<size_t>{2, 1, 2, 1});  // put aside for its cool-down
}

TEST_CASE("every node down: each tried once, and the last failure goes back to the engine", "[failover]") {
  Cluster c(3);
  for (ScriptedUrl* u : c.urls) u->answers.push_back(down("HTTP 503"));
  AttemptResult r = c.send();
  CHECK(r.outcome == Outcome::Retryable);
  CHECK(r.detail == "HTTP 503");
  CHECK(c.log == std::vector<size_t>{0, 1, 2});
  // The retry goes to the node back soonest (all are aside): the first one put aside.
  c.log.clear();
  CHECK(c.send().outcome == Outcome::Delivered);
  CHECK(c.log == std::vector<size_t>{0});
  CHECK(c.metrics.upstreams[0].up.get() == 1);  // it answered: back
}

TEST_CASE("an answer about the batch is not failed over", "[failover]") {
  Cluster c(2);
  c.urls[0]->answers.push_back({Outcome::Retryable, "HTTP 429", 1s});  // alive, asks to slow down
  c.urls[1]->answers.push_back({Outcome::Permanent, "HTTP 400", std::nullopt});
  CHECK(c.send().detail == "HTTP 429");
  CHECK(c.send().detail == "HTTP 400");
  CHECK(c.log == std::vector<size_t>{0, 1});
  CHECK(c.metrics.upstreams[0].failures.get() == 0);
  CHECK(c.metrics.upstreams[1].failures.get() == 0);
}

TEST_CASE("shutting down ends the attempt at once", "[failover]") {
  Cluster c(2);
  c.urls[0]->answers.push_back({Outcome::Cancelled, "request stopped", std::nullopt});
  CHECK(c.send().outcome == Outcome::Cancelled);
  CHECK(c.log == std::vector<size_t>{0});
}
