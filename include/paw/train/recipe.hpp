#pragma once
// Training recipes (JSON) and the recipe runner behind `paw train`. This header does not
// include libtorch, so the CLI compiles quickly; the runner lives in the torch-built library.
//
// A recipe names everything a run needs (docs/TRAINING.md lists every key and default):
//   {"name", "seed", "threads", "precision": "f32"|"bf16", "mode": "full"|"lora", "steps", "log_every",
//    "checkpoint_every", "checkpoint_dir", "log",
//    "data": {"source": "generator", "seed", "n_train", "families", ...} | {"source": "jsonl", "path"},
//    "eval": {"every", "n", "split" | "path"},
//    "tokenizer": {"path", "train_if_missing": {"vocab_size", "n_records"}},
//    "model": {"arch", "n_embd", "n_layer", "n_head", "n_head_kv", "head_dim", "n_ff", "n_ctx",
//              "rope_theta", "norm_eps", "tied", "init_std"} | {"init": "base.gguf"},
//    "lora": {"rank", "alpha", "targets", "layers"},
//    "optim": {"lr", "min_lr", "warmup_steps", "weight_decay", "beta1", "beta2", "eps", "grad_clip"},
//    "batch": {"batch_size", "seq_len", "grad_accum", "pack", "loss"},
//    "export": {"path", "type"},
//    "stages": [{"name", ...keys to change}, ...]}
// Unknown keys are errors (a typo must not silently fall back to a default). Relative paths
// are relative to the working directory.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <map>
#include <string>
#include <vector>

#include "paw/compiler/format.hpp"
#include "paw/data/generator.hpp"

namespace paw::train {

struct OptimSettings {
  double lr = 1e-3;          // peak learning rate
  double min_lr = 1e-4;      // end of the cosine decay
  int64_t warmup_steps = 100;  // linear warm-up from lr/warmup_steps to lr
  double weight_decay = 0.1;   // AdamW, on matrices only (not norms, biases)
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
  double grad_clip = 1.0;    // max global gradient norm (0 = no clipping)
};

// Learning rate of update `step` (0-based) of `total`: linear warm-up lr·(step+1)/warmup_steps
// for step < warmup_steps, then cosine decay min_lr + (lr - min_lr)·(1 + cos(pi·p))/2 with
// p = (step - warmup_steps)/(total - warmup_steps), which starts at lr and approaches min_lr.
double lr_at(const OptimSettings& o, int64_t step, int64_t total);

struct Recipe {
  std::string name = "run";
  uint64_t seed = 1;
  int threads = 0;            // torch intra-op threads (0 = auto: physical cores for bf16 on CPU, else libtorch's default)
  // Matrix-product precision of forward and backward. "f32": everything in float. "bf16":
  // mixed precision (libtorch autocast): products in bfloat16 with float accumulation, while
  // weights, optimizer state, norms and the loss stay float (the attention softmax reads the
  // bf16 scores and accumulates in float inside). On CPUs with AVX-512 BF16
  // (or AMX) this trains several times faster; exported weights are float as always.
  std::string precision = "f32";
  std::string mode = "full";  // "full": train every weight; "lora": frozen base + LoRA;
                              // "compiler": a compiler trained through a frozen interpreter
  int64_t steps = 1000;       // optimizer updates of the whole run (the schedule's length)
  int64_t log_every = 10;     // progress line on stderr every N steps
  int64_t checkpoint_every = 100;
  std::string checkpoint_dir = "train/out/run";
  std::string log_path;       // JSONL log; default <checkpoint_dir>/log.jsonl

  struct Data {
    std::string source = "generator";  // or "jsonl"
    std::string path;                  // jsonl
    data::GenOptions gen;              // generator (train split)
  } data;
  struct Eval {
    int64_t every = 0;                 // 0 = no evaluation
    int64_t n = 64;                    // records evaluated (the first n of the split)
    std::string split = "heldout_params";  // generator split, or "path" for a JSONL file
    std::string path;
  } eval;
  struct Tok {
    std::string path;                  // tokenizer GGUF / tokenizer.json
    bool train_if_missing = false;     // train a BPE on the generator's train split if absent
    int32_t vocab_size = 2048;         // BPE tokens (special tokens come on top)
    int64_t n_records = 2000;          // generator records used to train it
  } tokenizer;
  struct Model {
    std::string init;                  // start from this GGUF or HF folder (its shape wins; required for lora)
    std::string arch = "qwen3";
    int64_t n_vocab = 0;               // 0 = the tokenizer's vocabulary size
    int64_t n_embd = 128, n_layer = 4, n_head = 4, n_head_kv = 2, head_dim = 32, n_ff = 384, n_ctx = 1024;
    double rope_theta = 1e6, norm_eps = 1e-6;
    bool tied = true;
    double init_std = 0.02;
  } model;
  struct Lora {
    int64_t rank = 8;
    double alpha = 16.0;
    std::vector<std::string> targets = {"q", "k", "v", "o", "gate", "up", "down"};
    std::vector<int64_t> layers;
  } lora;
  // mode "compiler" (docs/TRAINING.md, "Compiler"): batch.batch_size counts specs, each with
  // cases_per_spec (input, output) cases sharing that spec's program; batch.seq_len caps one
  // case's interpreter tokens (longer cases are left out).
  struct Compiler {
    std::string interpreter;           // the frozen interpreter GGUF (required)
    std::string encoder_init;          // the encoder's starting weights (default: the interpreter)
    int64_t prefix_tokens = 16, n_bases = 8, rank = 32, mapper_hidden = 0, cases_per_spec = 4;
    double alpha = 16.0;
    double coef_init = 1.0;            // std of the initial coefficients
    double encoder_lr_scale = 1.0;     // the encoder's learning rate relative to optim.lr
    bool spec_conditioned = true;      // false: the control (the encoder sees an empty spec)
    int64_t feature_norm_specs = 0;    // > 0: standardise the mapper's input over this many train specs
    compiler::CoefActivation coef_activation = compiler::CoefActivation::Linear;  // "softmax": each group routes over the bases
    double router_logit_std = 2.0;     // softmax: initial spread of the routing logits across specs
    double balance_weight = 0.0;       // softmax: weight of the load-balance penalty added to the loss
    int64_t n_experts = 0;             // > 0 (softmax): one routing per spec over this many per-layer LoRA experts
    std::string init_from;             // experts: a control compiler whose program every expert starts as
    // Family experts: {family: control compiler GGUF}. One expert per family (in name order),
    // each starting as that file's program (e.g. a control trained on that family alone); the
    // router is taught which expert serves a spec from the generator's family labels
    // (cross-entropy, route_weight) beside the interpreter's loss. Sets n_experts.
    std::map<std::string, std::string> family_experts;
    double route_weight = 1.0;         // family_experts: weight of the routing cross-entropy (per spec)
    bool train_bases = true;           // false: the bases (the experts' LoRAs) stay as they start
    double spec_view_prob = 0.0;       // encoder reads only the instruction / only the examples, each this often
    int64_t pointer_rank = 0;          // > 0: the pointer channel (CompilerConfig::pointer_rank; no export)
    double pointer_query_std = 3.0;    // CompilerConfig::pointer_query_std
    bool pointer_centered = true;      // CompilerConfig::pointer_centered
    bool prompt_spec = true;           // false: empty pseudo-program in the interpreter's prompt (no export)
    double prompt_drop_prob = 0.0;     // training only: a spec's prompt loses the spec this often
    std::vector<std::string> modules = {"q", "k", "v", "o", "gate", "up", "down"};
  } compiler;
  OptimSettings optim;
  struct Batch {
    int64_t batch_size = 8, seq_len = 512, grad_accum = 1;
    bool pack = true;
    // "output": loss on the output tokens only; "all": also on the prompt (spec + input) tokens,
    // whose worked Input/Output examples are extra supervision. Evaluation always scores outputs.
    std::string loss = "output";
  } batch;
  struct Export {
    std::string path;                  // empty = no export
    std::string type = "f16";          // f32 f16 bf16 q8_0 q4_0 ...
  } exp;

  // Curriculum: when non-empty, `paw train` runs these recipes in order instead of this one.
  // Each stage is this recipe with the stage's keys merged over it (JSON merge patch, RFC 7396:
  // objects merge, anything else replaces), and a full run of its own: its own `steps` and LR
  // schedule, a fresh optimizer, checkpoints and log in <checkpoint_dir>/<stage name>. Every
  // stage after the first starts from the weights the previous one exported (F32, in its
  // checkpoint directory, unless the stage names an export); the last stage exports to this
  // recipe's export. All stages share this recipe's tokenizer, trained on this recipe's data
  // when missing. Full training only (mode "full").
  std::vector<Recipe> stages;
  std::string stage_name;              // set on a stage: its "name" in the stages list

  nlohmann::json source;               // the recipe as given
};

// Throws paw::Error naming the key (as "where: key.sub") for unknown keys, wrong types and
// out-of-range values.
Recipe parse_recipe(const nlohmann::json& j, const std::string& where = "recipe");
Recipe load_recipe(const std::string& path);

struct RunOptions {
  bool resume = false;        // continue from <checkpoint_dir>/checkpoint.pt (fresh start if absent);
                              // for stages: each stage from its own checkpoint
  std::string device = "cpu"; // "cpu" or "cuda" (an error when CUDA is unavailable)
  int64_t max_steps = -1;     // stop after this global step (the schedule still spans `steps`);
                              // for stages the steps of all stages count, in order
  bool progress = true;       // progress lines on stderr
};

struct RunResult {
  int64_t first_step = 0;     // global step the run started from (checkpoint step on resume;
                              // for stages: counting the steps of the stages before)
  int64_t last_step = 0;      // global steps done when the run stopped
  std::vector<double> losses; // training loss per step of this run (mean over target tokens)
  std::vector<double> eval_losses;  // held-out mean NLL per answer token, per evaluation
  std::vector<double> eval_exact;   // held-out greedy exact-match rate (teacher-forced argmax), per evaluation
  double tokens_per_s = 0;    // non-padding tokens through forward+backward per second
  int64_t n_params = 0;       // trainable parameters
  int64_t n_model_params = 0; // parameters of the interpreter
  std::string checkpoint;     // the checkpoint file written last ("" if none)
  std::string exported;       // the exported GGUF ("" if none)
};

// Runs a recipe: tokenizer, data, model, AdamW with warm-up + cosine, gradient accumulation
// and clipping, checkpoints (atomic), JSONL log, progress with tokens/s and ETA, export.
// A recipe with stages runs them in order (see Recipe::stages); the result then spans them all
// (losses and evaluations concatenated, tokens_per_s and the export of the last stage run).
RunResult run_recipe(const Recipe& r, const RunOptions& opt);

}  // namespace paw::train
