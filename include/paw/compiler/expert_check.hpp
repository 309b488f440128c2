#pragma once
// Checking an experts compiler's routing with the spec's own worked examples (opt in:
// `paw compile --expert-check`, CompileOptions::expert_check).
//
// An experts compiler's router reads a spec with a small encoder trained on the generator's
// phrasings, so a hand-written spec can reach another task's program. The spec's "Input: … /
// Output: …" examples say what the function does. The check runs every expert's program on
// them, teacher forced by the interpreter, and keeps the router's choice unless another
// expert's program answers more of them, or as many with a clearly lower answer loss
// (ExpertCheckOptions::nll_margin). Measured on the shipped compiler (docs/TRAINING.md, "The
// expert check"): no better than the router on held-out generator specs, and on hand-written
// specs it fixed none of the router's wrong routes, so it is off by default; its per-expert
// scores still tell which programs fit a spec's examples.
//
//   auto check = paw::compiler::ExpertCheck::open(c, "models/trained/S.gguf");
//   paw::compiler::CompileOptions o;
//   o.expert_check = check.get();
//   c.compile(spec, o);     // CompiledProgram::expert, expert_chosen_by, example_scores
//
// Deterministic: the forward pass sums in a fixed order for any thread count.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "paw/compiler/spec_examples.hpp"

namespace paw {
class Model;
}  // namespace paw

namespace paw::compiler {

class Compiler;

struct ExpertCheckOptions {
  // On equal numbers of answered examples, another expert replaces the router's when its mean
  // answer loss is lower by more than this (nats per answer token): the loss of a program that
  // answers nothing still tells which task it is closest to, but small differences are noise.
  double nll_margin = 0.5;
  // Examples the check reads at most (the first ones): each costs one forward pass per expert.
  size_t max_examples = 8;
  int n_threads = 0;  // interpreter threads; 0 = one per physical core
};

// One expert's program on the spec's examples.
struct ExpertExampleScore {
  std::string expert;
  int64_t n_examples = 0;    // examples read (the same for every expert)
  int64_t answered = 0;      // examples whose every answer token and the EOS are the interpreter's
                             // argmax (greedy decoding writes exactly that answer)
  double nll_per_token = 0;  // mean answer NLL, nats per token (EOS included)
};

class ExpertCheck {
 public:
  // Loads the interpreter `c` makes programs for, checked by size and SHA-256
  // (Compiler::check_interpreter; `known_sha256` skips hashing the file again).
  static std::unique_ptr<ExpertCheck> open(const Compiler& c, const std::string& interpreter_path,
                                           const ExpertCheckOptions& o = {}, const std::string& known_sha256 = {});
  // With an interpreter already loaded (it must be the compiler's: the caller checked it); its
  // tokenizer is the model's own (tokenizer_of).
  explicit ExpertCheck(std::shared_ptr<const Model> interpreter, const ExpertCheckOptions& o = {});
  ~ExpertCheck();
  ExpertCheck(const ExpertCheck&) = delete;
  ExpertCheck& operator=(const ExpertCheck&) = delete;

  const ExpertCheckOptions& options() const;

  // Every expert's score on `examples` [c.info().experts.size()], in the compiler's expert
  // order; the programs are built from `pseudo_program` as compile() builds them, with weights
  // of `adapter_type` (empty: the compiler's default). Empty for a compiler without experts.
  std::vector<ExpertExampleScore> score(const Compiler& c, std::string_view pseudo_program,
                                        const std::vector<SpecExample>& examples,
                                        const std::string& adapter_type = {}) const;

  // The expert to use: `router_choice` unless another scores better by the rule above.
  size_t choose(const std::vector<ExpertExampleScore>& scores, size_t router_choice) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace paw::compiler
