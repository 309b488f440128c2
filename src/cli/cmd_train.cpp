// `paw train --recipe train/recipes/S.json [--resume] [--device cpu|cuda] [--max-steps N]` —
// train an interpreter (or a LoRA on a frozen one) from a JSON recipe (docs/TRAINING.md).
// Built only with -DPAW_WITH_TORCH=ON (the libtorch training layer).
#ifdef PAW_WITH_TORCH

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "paw/train/recipe.hpp"

namespace paw::cli {
namespace {

struct TrainCliOptions {
  std::string recipe;
  train::RunOptions run;
};

void run_train_command(const TrainCliOptions& o) {
  const train::Recipe r = train::load_recipe(o.recipe);
  const train::RunResult res = train::run_recipe(r, o.run);
  std::printf("steps %lld..%lld  loss %.4f  %.0f tok/s  checkpoint %s  export %s\n",
              static_cast<long long>(res.first_step), static_cast<long long>(res.last_step),
              res.losses.empty() ? 0.0 : res.losses.back(), res.tokens_per_s,
              res.checkpoint.empty() ? "-" : res.checkpoint.c_str(), res.exported.empty() ? "-" : res.exported.c_str());
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto o = std::make_shared<TrainCliOptions>();
  auto* cmd = app.add_subcommand("train", "Train an interpreter or a LoRA from a JSON recipe (libtorch)");
  cmd->add_option("--recipe", o->recipe, "Recipe file (train/recipes/*.json; keys in docs/TRAINING.md)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_flag("--resume", o->run.resume,
                "Continue from <checkpoint_dir>/checkpoint.pt (starts fresh if absent); a recipe with stages resumes "
                "each stage from <checkpoint_dir>/<stage>/");
  cmd->add_option("--device", o->run.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
  cmd->add_option("--max-steps", o->run.max_steps,
                  "Stop after this global step (the LR schedule still spans the recipe's steps; with stages, the "
                  "steps of all stages count in order)");
  cmd->add_flag("--quiet", [o](int64_t) { o->run.progress = false; }, "No progress lines on stderr");
  cmd->callback([o] { run_train_command(*o); });
}

}  // namespace paw::cli

#endif  // PAW_WITH_TORCH
