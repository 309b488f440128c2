#include "cli/commands.hpp"
namespace paw::cli {
void add_tokenize_command(CLI::App& app) { app.add_subcommand("tokenize", "Tokenize text (in progress)"); }
}
