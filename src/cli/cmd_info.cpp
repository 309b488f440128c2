#include "cli/commands.hpp"
namespace paw::cli {
void add_info_command(CLI::App& app) { app.add_subcommand("info", "Describe a model, tokenizer or program file (in progress)"); }
}
