#include <catch2/catch.hpp>

#include "cli/option_table.h"
#include "sinks/codec_options.h"

using namespace batchpipe;

namespace {

std::string error_of(std::string_view text) {
  std::string error;
  CHECK_FALSE(parse_codec(text, error));
  return error;
}

}  // namespace

TEST_CASE("--compress takes gzip or zstd with an optional level", "[codec]") {
  std::string error;
  CHECK(parse_codec("gzip", error) == CodecChoice{CodecKind::Gzip, 6});
  CHECK(parse_codec("zstd", error) == CodecChoice{CodecKind::Zstd, 3});
  CHECK(parse_codec("gzip:1", error) == CodecChoice{CodecKind::Gzip, 1});
  CHECK(parse_codec("gzip:12", error) == CodecChoice{CodecKind::Gzip, 12});
  CHECK(parse_codec("zstd:1", error) == CodecChoice{CodecKind::Zstd, 1});
  CHECK(parse_codec("zstd:22", error) == CodecChoice{CodecKind::Zstd, 22});
  CHECK(error.empty());
  CHECK(codec_name({CodecKind::Gzip, 6}) == "gzip:6");
  CHECK(codec_name({}) == "none");
}

TEST_CASE("--compress: every refusal names the methods and their level ranges", "[codec]") {
  const std::string forms = "expected gzip[:LEVEL] (LEVEL 1-12, default 6) or zstd[:LEVEL] (LEVEL 1-22, default 3)";
  CHECK(codec_forms() == forms.substr(9));
  CHECK(error_of("brotli") == "--compress: unknown method 'brotli'; " + forms);
  CHECK(error_of("GZIP") == "--compress: unknown method 'GZIP'; " + forms);
  CHECK(error_of("") == "--compress: unknown method ''; " + forms);
  CHECK(error_of("gzip:0") == "--compress: gzip level must be a whole number from 1 to 12, got '0'; " + forms);
  CHECK(error_of("gzip:13") == "--compress: gzip level must be a whole number from 1 to 12, got '13'; " + forms);
  CHECK(error_of("zstd:23") == "--compress: zstd level must be a whole number from 1 to 22, got '23'; " + forms);
  CHECK(error_of("zstd:0") == "--compress: zstd level must be a whole number from 1 to 22, got '0'; " + forms);
  for (const char* bad : {"gzip:x", "gzip:", "gzip:6x", "gzip: 6", "gzip:+6", "gzip:-1", "gzip:6:1",
                          "zstd:99999999999999999999"})
    CHECK_THAT(error_of(bad), Catch::Contains("level must be a whole number") && Catch::EndsWith(forms));
  // `--compress --post URL`: the option parser hands over "--post" as the value.
  // `--compress --post URL` is the command line's to refuse (a value that
  // starts with "--"); `--compress=--post` is a method given on purpose.
  CHECK(error_of("--post") == "--compress: unknown method '--post'; " + forms);
}

TEST_CASE("the option table says what --compress takes in the codec's own words", "[codec_options]") {
  const OptionRow* row = find_option("--compress");
  REQUIRE(row);
  CHECK(row->expects == codec_forms());
}
