// --metrics-label: what is a label, and how labels are written.
#include <catch2/catch.hpp>

#include "report/metrics_labels.h"

using namespace batchpipe;

TEST_CASE("label names follow Prometheus' rule", "[metrics_labels]") {
  std::string error;
  CHECK(parse_metrics_label("instance=web1", error) == MetricsLabel{"instance", "web1"});
  CHECK(parse_metrics_label("_x9=a=b", error) == MetricsLabel{"_x9", "a=b"});  // the first = splits
  CHECK(parse_metrics_label("job=caf\xc3\xa9", error) == MetricsLabel{"job", "caf\xc3\xa9"});
  for (const char* bad : {"instance", "=v", "9x=v", "a-b=v", "a.b=v", "x y=v", "__name__=v", "le=1", "upstream=a",
                          "k=", "k=\xff"}) {
    error.clear();
    INFO(bad);
    CHECK_FALSE(parse_metrics_label(bad, error));
    CHECK(error.rfind("--metrics-label: ", 0) == 0);
  }
  parse_metrics_label("a-b=v", error);
  CHECK(error == "--metrics-label: \"a-b\" is not a Prometheus label name: a letter or _, then letters, digits or _");
}

TEST_CASE("labels are written in order with the value escaped", "[metrics_labels]") {
  CHECK(format_metrics_labels({}) == "");
  CHECK(format_metrics_labels({{"instance", "web1"}}) == "instance=\"web1\"");
  CHECK(format_metrics_labels({{"b", "1"}, {"a", "q\"\\\nz"}}) == "b=\"1\",a=\"q\\\"\\\\\\nz\"");
}
