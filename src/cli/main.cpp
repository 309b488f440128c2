// paw — command-line entry point. Every sub-command is registered from its own file; errors
// from the library (paw::Error) become one clear line on stderr and exit status 1.
#include <cstdio>
#include <exception>

#include "cli/commands.hpp"
#include "paw/util/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"paw — Program-as-Weights: run fuzzy text functions compiled into small neural programs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "paw 0.1.0");
  paw::cli::add_info_command(app);
  paw::cli::add_tokenize_command(app);
  paw::cli::add_data_command(app);
  paw::cli::add_tokenizer_train_command(app);
  paw::cli::add_pack_command(app);
  paw::cli::add_unpack_command(app);
  paw::cli::add_import_command(app);
  paw::cli::add_ls_command(app);
  paw::cli::add_rm_command(app);
  paw::cli::add_run_command(app);
  paw::cli::add_test_command(app);
  paw::cli::add_generate_command(app);
  paw::cli::add_logits_command(app);
  paw::cli::add_hidden_command(app);
  paw::cli::add_export_lora_command(app);
  paw::cli::add_convert_command(app);
  paw::cli::add_rebase_experts_command(app);
  paw::cli::add_bench_command(app);
  paw::cli::add_eval_command(app);
  paw::cli::add_compile_command(app);
  paw::cli::add_serve_command(app);
  paw::cli::add_bench_serve_command(app);
#ifdef PAW_WITH_TORCH
  paw::cli::add_train_command(app);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const paw::Error& e) {
    std::fprintf(stderr, "paw: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "paw: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
