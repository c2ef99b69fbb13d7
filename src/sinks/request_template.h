// {batch_id}, {batch} and {attempt} in a --post URL and in -H values,
// filled in for each attempt, so a receiver can deduplicate (ClickHouse's
// insert_deduplication_token, a custom header) or log which batch it got.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace batchpipe {

struct TemplateValues {
  std::string_view batch_id;  ///< the same on every attempt of a batch, unique across runs
  uint64_t batch = 0;         ///< the batch's number, from 1
  uint32_t attempt = 0;       ///< from 1
};

/// True if `text` holds one of the fields.
bool has_template_fields(std::string_view text);

/// `text` with each field replaced; other braces stay as they are.
std::string expand_template(std::string_view text, const TemplateValues& values);

}  // namespace batchpipe
