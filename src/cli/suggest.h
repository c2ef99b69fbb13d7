// "Did you mean ...?" for mistyped option names.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace batchpipe {

/// Edits (insert, delete, replace, swap two neighbours) that turn `a` into `b`:
/// the optimal string alignment distance, so "--sise" is 1 from "--size" and
/// "--intreval" 1 from "--interval".
size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate nearest to `word`, if it is near enough to be a typo of it:
/// at most 1 edit for names of up to 4 letters (leading dashes aside), else
/// at most 2, and fewer edits than the name has letters. On a tie the first
/// candidate wins. Nothing if none is near enough.
std::optional<std::string> closest_name(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace batchpipe
