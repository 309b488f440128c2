#pragma once
#include <string>

namespace paw::cli {
// Reads all of stdin (binary-safe).
std::string read_all_stdin();
}  // namespace paw::cli
