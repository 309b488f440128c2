#pragma once
// Finetune compile (the reference's `finetune_lora` compiler kind): a per-spec LoRA trained by
// gradient descent on the frozen interpreter from the spec's worked examples ("Input: …" /
// "Output: …" pairs) plus given (input, output) cases, optionally starting from the mapper's
// adapter. The program is the same kind of bundle as a mapper compile (the compiler's
// template, rank, alpha and modules), with meta.json compiler_kind "finetune_lora" and a
// "finetune" object saying how it was made. Deterministic for a fixed seed and thread count.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "paw/compiler/compiler.hpp"
#include "paw/compiler/spec_examples.hpp"

namespace paw::train {

// An (input, output) pair: the spec's worked examples (compiler::spec_examples) and given cases.
using FinetuneExample = compiler::SpecExample;
using compiler::spec_examples;
// {"input": "...", "output": "..."} per line (blank lines skipped; "expected" is accepted for
// "output", as `paw test` cases have it). Errors name the file and line.
std::vector<FinetuneExample> read_examples_jsonl(const std::string& path);

struct FinetuneOptions {
  // Optimizer steps and AdamW rate (constant after a 10-step warm-up, no weight decay).
  // Auto (steps -1, lr 0): with kManyExamples examples or more, 120 steps at 1e-3 (measured to
  // beat the prompt alone on held-out families with 20 labelled cases, docs/TRAINING.md); with
  // fewer, 40 steps at 5e-4 (120 steps at 2e-3 overfit three examples).
  int64_t steps = -1;
  int64_t batch = 8;            // examples per step: every example once when there are at most `batch`
                                // (so a step's loss is the examples' loss), else drawn with replacement, seeded
  double lr = 0;
  uint64_t seed = 1;            // example order and the A init (B starts at 0)
  int threads = 0;              // torch intra-op threads (0 = libtorch's default)
  bool init_mapper = true;      // start from the compiler's mapper adapter for this spec (else A random, B 0)
  int64_t max_tokens = 0;       // longer examples (program prompt + answer) are left out; 0 = the interpreter's context
  // Stop once a full-batch step's mean answer NLL (nats per answer token, teacher forced) is at or
  // below this, before that step updates anything: examples the program already answers are not
  // memorised further (a mapper program that fits a date spec's 3 examples lost held-out dates
  // when trained on them for 40 steps). Checked only when every step sees every example; 0 = never.
  double stop_loss = 0;
  bool bf16 = true;             // products in bfloat16 under autocast (weights, grads, optimizer stay float),
                                // on CPUs that multiply bf16 natively (AVX512_BF16: several times faster,
                                // docs/TRAINING.md "Speed"); elsewhere libtorch emulates bf16, slower than
                                // float, so the products stay float there
};

inline constexpr size_t kManyExamples = 16;

struct FinetuneResult {
  compiler::CompiledProgram program;
  int64_t steps = 0;            // as planned (auto resolved)
  int64_t steps_run = 0;        // fewer than `steps` when stop_loss ended the run
  double lr = 0;
  std::vector<double> losses;   // mean answer NLL per step
  double first_loss = 0, final_loss = 0;   // mean answer NLL over all examples before and after
  size_t n_examples = 0, n_skipped = 0;
  double seconds = 0;
};

// Checks that `interpreter_path` is the compiler's interpreter, gathers the examples (the
// spec's, then `extra`), trains, and packages. Throws paw::Error for an empty spec, no usable
// example, or an interpreter that is not the compiler's.
FinetuneResult finetune_compile(const compiler::Compiler& c, const std::string& interpreter_path, std::string_view spec,
                                const std::vector<FinetuneExample>& extra, const FinetuneOptions& o = {},
                                const std::string& adapter_type = {});

}  // namespace paw::train
