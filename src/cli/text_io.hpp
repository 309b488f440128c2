#pragma once
#include <string>
#include <vector>

namespace paw::cli {
// Reads all of stdin (binary-safe).
std::string read_all_stdin();
// "a,b,,c" -> {"a", "b", "c"} (empty items dropped).
std::vector<std::string> split_commas(const std::string& s);
}  // namespace paw::cli
