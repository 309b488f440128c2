#pragma once
// Inside the train layer: one run of one recipe (trainer.cpp), which run_recipe calls once, or
// once per stage of a curriculum (stages.cpp).
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/train/recipe.hpp"

namespace paw::train {

// The recipe's tokenizer; trains and writes it first (a BPE on the recipe's generator data)
// when the file is missing and the recipe allows it.
Tokenizer prepare_tokenizer(const Recipe& r, bool progress);

// Runs `r` itself, ignoring r.stages.
RunResult run_single_recipe(const Recipe& r, const RunOptions& opt);

// Runs a recipe of mode "compiler" (compiler_trainer.cpp).
RunResult run_compiler_recipe(const Recipe& r, const RunOptions& opt);

}  // namespace paw::train
