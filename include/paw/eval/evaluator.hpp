#pragma once
// The evaluation harness: run an interpreter on (spec, input, expected output) cases in the
// prompted format (paw/data/prompt.hpp) with greedy decoding, score each answer
// (paw/eval/match.hpp) and aggregate per split and family, with speed and peak memory.
//
// Mode "prompted": the spec is part of the prompt, as the models of train/recipes are trained.
// Mode "program": each case's spec is compiled once with a compiler GGUF (paw/compiler) and the
// case runs through the program exactly as `paw run` runs it (paw::Program, reference semantics).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "paw/data/generator.hpp"
#include "paw/compiler/compiler.hpp"
#include "paw/model/model.hpp"
#include "paw/runtime/session.hpp"
#include "paw/tokenizer/tokenizer.hpp"

namespace paw::eval {

struct EvalCase {
  std::string spec, input, expected;
  std::string family = "-";  // grouping keys of the report
  std::string split = "-";
  // Labelled cases of the same parameterisation, not the scored one (generator_cases with
  // n_examples > 0): what a finetune compile learns from.
  std::vector<std::pair<std::string, std::string>> examples = {};   // (input, output)
};

// The first n records of each split of the FuzzyBench-synth generator (options as the training
// recipe used them, so held-out records really are held out). A record depends only on
// (options, split, index), so n may be anything up to the split's count in `opt`.
// n_examples > 0: each case also carries up to that many further labelled cases of its spec.
std::vector<EvalCase> generator_cases(const data::GenOptions& opt, std::span<const data::Split> splits,
                                      size_t n_examples = 0);
// A JSONL file, one object per line with string fields "spec", "input", "output" (and
// optionally "family", "split"); empty lines are skipped. Throws paw::Error naming the line.
std::vector<EvalCase> jsonl_cases(const std::string& path);
// The same from text in memory; `name` is used in messages ("name:line").
std::vector<EvalCase> jsonl_cases_text(std::string_view text, const std::string& name);

struct EvalOptions {
  int64_t max_tokens = 128;  // most answer tokens per case; a longer answer is cut (and fails)
  SessionOptions session;    // n_ctx 0 = the model's context (at most 2048), F16 KV cache
  // Called after each case with (cases done, total). May be empty.
  std::function<void(size_t, size_t)> progress;
  // Mode "program": how a case becomes a program; empty = the compiler's compile(spec). A
  // finetune compile (libtorch builds) plugs in here; the report's mode then says `label`.
  std::function<compiler::CompiledProgram(const compiler::Compiler&, const EvalCase&)> make_program;
  std::string make_program_label = "program (finetuned)";
  // Mode "program" with an experts compiler: check the router's choice with each spec's worked
  // examples (compiler::ExpertCheck; `paw compile --expert-check`).
  bool expert_check = false;
  // ... or every spec's program from this expert (CompileOptions::expert); empty = route.
  std::string expert;
};

struct CaseResult {
  std::string prediction;
  bool exact = false, normalised = false;
  bool skipped = false;  // prompt + max_tokens do not fit the context: scored as wrong
  int64_t prompt_tokens = 0, answer_tokens = 0;
};

struct Score {
  int64_t n = 0, exact = 0, normalised = 0;
};

struct ModelReport {
  std::string model;                 // label: the model file's name
  std::string mode = "prompted";
  std::vector<CaseResult> cases;     // one per case, in case order
  std::map<std::pair<std::string, std::string>, Score> by_split_family;  // key (split, family)
  std::map<std::string, Score> by_split;
  Score total;
  int64_t prompt_tokens = 0, answer_tokens = 0;   // evaluated tokens, all cases
  double prompt_seconds = 0, answer_seconds = 0;  // wall time of prefill / of decoding
  double load_seconds = 0;
  uint64_t peak_rss_bytes = 0;       // process peak from (re)load to the end of the run
  int64_t n_params = 0;
  uint64_t model_bytes = 0;          // the model (interpreter) file on disk; 0 when not from a file
  int64_t n_skipped = 0;
  // Mode "program": compiles (one per distinct spec), their time, and adapter bytes.
  int64_t n_compiled = 0;
  double compile_seconds = 0;
  uint64_t adapter_bytes = 0;        // of one program (they all have the same size)
  int64_t compiler_params = 0;
  // Experts compilers with the expert check: programs whose expert the spec's examples chose
  // over the router's (of n_compiled); -1 when no check ran.
  int64_t n_expert_by_examples = -1;
};

// Evaluates a loaded model (its tokenizer must know <|im_end|>, which ends every answer).
// Throws paw::Error when the tokenizer lacks <|im_end|>.
ModelReport evaluate(const std::shared_ptr<const Model>& model, const Tokenizer& tok, std::span<const EvalCase> cases,
                     const EvalOptions& opt);

// Mode "program": compiles every distinct spec with the compiler and runs each case through
// its program on the interpreter (greedy until the vocabulary's EOS, at most max_tokens).
// Throws paw::Error when the compiler was not trained for this interpreter file.
ModelReport evaluate_programs(const std::string& interpreter_path, const std::string& compiler_path,
                              std::span<const EvalCase> cases, const EvalOptions& opt);

// Loads a GGUF model (+ its tokenizer) and evaluates it; the peak RSS counts from before the
// load (reset_peak_rss), so several models evaluated in one process get their own peaks.
ModelReport evaluate_file(const std::string& model_path, std::span<const EvalCase> cases, const EvalOptions& opt);

}  // namespace paw::eval
