#pragma once
// Each `paw` sub-command lives in its own cmd_<name>.cpp and registers itself here.
#include <CLI/CLI.hpp>

namespace paw::cli {

void add_info_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_data_command(CLI::App& app);
void add_tokenizer_train_command(CLI::App& app);
void add_pack_command(CLI::App& app);
void add_unpack_command(CLI::App& app);
void add_import_command(CLI::App& app);
void add_ls_command(CLI::App& app);
void add_rm_command(CLI::App& app);
void add_run_command(CLI::App& app);    // cmd_run.cpp
void add_test_command(CLI::App& app);   // cmd_test.cpp
void add_generate_command(CLI::App& app);     // cmd_generate.cpp
void add_logits_command(CLI::App& app);       // cmd_logits.cpp
void add_hidden_command(CLI::App& app);       // cmd_hidden.cpp
void add_export_lora_command(CLI::App& app);  // cmd_export_lora.cpp
void add_convert_command(CLI::App& app);      // cmd_convert.cpp
void add_rebase_experts_command(CLI::App& app);  // cmd_rebase_experts.cpp
void add_bench_command(CLI::App& app);        // cmd_bench.cpp
void add_eval_command(CLI::App& app);         // cmd_eval.cpp
void add_compile_command(CLI::App& app);      // cmd_compile.cpp
void add_serve_command(CLI::App& app);        // cmd_serve.cpp
void add_bench_serve_command(CLI::App& app);  // cmd_bench_serve.cpp
// Help shared by `paw compile --stop-loss` and `paw eval --finetune-stop-loss` (default 0, as
// train::FinetuneOptions).
inline constexpr const char* kFinetuneStopLossHelp =
    "finetune: stop once the examples' mean answer loss (nats per token) is at or below this, before "
    "the step that would train further (only with 8 or fewer examples, where each step sees them all); "
    "0 = every step";

#ifdef PAW_WITH_TORCH
void add_train_command(CLI::App& app);  // cmd_train.cpp (libtorch builds only)
#endif

}  // namespace paw::cli
