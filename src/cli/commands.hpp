#pragma once
// Each `paw` sub-command lives in its own cmd_<name>.cpp and registers itself here.
#include <CLI/CLI.hpp>

namespace paw::cli {

void add_info_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);

}  // namespace paw::cli
