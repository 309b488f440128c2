#pragma once
// Inside the train layer: the optimizer-step loop both trainers run (trainer.cpp for
// interpreters and LoRAs, compiler_trainer.cpp for compilers): learning rate, micro-batches
// with gradient accumulation (the loss is the mean NLL over the whole step's target tokens),
// clipping, AdamW step, the JSONL log line, progress with tokens/s and ETA, held-out
// evaluation and checkpoints on their cadence.
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

#include "paw/train/recipe.hpp"

namespace paw::train {

struct EvalScore {
  double loss = 0;   // mean NLL per answer token
  double exact = 0;  // share of cases whose every answer token (and EOS) is the argmax
};

// What one trainer plugs into the loop.
struct StepHooks {
  torch::nn::Module* trainable = nullptr;      // train()/eval() modes and clipped parameters
  torch::optim::Optimizer* optim = nullptr;
  int64_t* step = nullptr;                     // updates done (advanced by the loop)
  int64_t* tokens_seen = nullptr;              // advanced by the loop
  std::function<void(double lr)> set_lr;       // the step's rate onto the optimizer's groups
  // Draws the next micro-batch (returns its token and target counts); `k` is its index in the step.
  std::function<void(int64_t k, int64_t& n_tokens, int64_t& n_targets)> next_micro_batch;
  // Summed NLL of micro-batch `k` of the step (graph attached).
  std::function<torch::Tensor(int64_t k)> micro_batch_loss_sum;
  std::function<EvalScore()> evaluate;
  std::function<void()> save_checkpoint;
  std::string cursor_key;                      // the log's name for the data cursor ("examples", "specs")
  std::function<int64_t()> cursor;
  std::string checkpoint_path;
};

// Runs steps until `end`, appending to res.losses / eval_losses / eval_exact and setting
// res.checkpoint, res.last_step and res.tokens_per_s.
void run_steps(const Recipe& r, const RunOptions& opt, int64_t end, const StepHooks& h, std::ostream& log,
               RunResult& res);

}  // namespace paw::train
