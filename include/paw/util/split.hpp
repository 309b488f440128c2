#pragma once
// Comma-separated option values ("q,k,v", "train,heldout_params").
#include <string>
#include <string_view>
#include <vector>

namespace paw {

// "a,b,,c" -> {"a", "b", "c"}: items in order, empty items dropped.
std::vector<std::string> split_commas(std::string_view s);

}  // namespace paw
