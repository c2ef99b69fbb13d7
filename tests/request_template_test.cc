#include <catch2/catch.hpp>

#include "sinks/request_template.h"

using namespace batchpipe;

TEST_CASE("request templates fill in the batch's id, number and attempt") {
  TemplateValues v{"abc-7", 7, 2};
  CHECK(expand_template("http://h/?token={batch_id}&b={batch}&a={attempt}", v) == "http://h/?token=abc-7&b=7&a=2");
  CHECK(expand_template("X-Batch: {batch}{batch}", v) == "X-Batch: 77");
  CHECK(expand_template("{other} {batch_id", v) == "{other} {batch_id");
  CHECK(expand_template("{{batch}}", v) == "{7}");
  CHECK(expand_template("", v) == "");
  CHECK(has_template_fields("a{attempt}"));
  CHECK_FALSE(has_template_fields("a{record_id}"));
}
