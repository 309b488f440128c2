#pragma once
// Native compile: spec -> program bundle with a compiler GGUF (paw/compiler/format.hpp,
// docs/FORMATS.md "Compiler GGUF"). No libtorch: the encoder runs on the model code, the mapper
// and the bases on plain loops.
//
//   paw::compiler::Compiler c = paw::compiler::Compiler::open("models/trained/C.gguf");
//   paw::compiler::CompiledProgram p = c.compile("Classify urgency: ...");
//   p.write("triage.paw");                 // or p.bundle, p.program_id
//
// Determinism: the same spec, compiler file and options give byte-identical bundles and the
// same program id (no time stamp is written; every sum runs in a fixed order).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "paw/adapter/writer.hpp"
#include "paw/compiler/expert_check.hpp"
#include "paw/compiler/format.hpp"
#include "paw/program/bundle.hpp"
#include "paw/tensor/dtype.hpp"

namespace paw::compiler {

// What a compiler file says about itself (its compiler.* metadata).
struct CompilerInfo {
  std::string path;
  std::string name;               // compiler.name: meta.json compiler_snapshot
  std::string fingerprint;        // sha256 of the compiler file: meta.json compiler_fingerprint
  uint64_t file_size = 0;
  int64_t prefix_tokens = 0, prefix_first_id = 0, n_bases = 0, rank = 0, mapper_hidden = 0;
  double alpha = 0;
  std::vector<std::string> modules;         // short names, sorted
  std::vector<int64_t> encoder_layers;      // one per interpreter layer (duplicates allowed)
  bool spec_conditioned = true;             // false: the control; the spec does not change the adapter
  CoefActivation coef_activation = CoefActivation::Linear;  // compiler.coef_activation
  // compiler.experts (optional): an experts compiler's expert names (e.g. the families each was
  // trained on); softmax only, n_bases = interp_n_layer * experts.size().
  std::vector<std::string> experts;
  std::string program_template;
  std::string adapter_type = "q4_0";        // default adapter weight type
  int64_t encoder_n_layer = 0, encoder_n_embd = 0, encoder_n_ctx = 0, encoder_params = 0;
  // The interpreter the programs are for.
  std::string interp_name, interp_sha256, interp_arch;
  uint64_t interp_size = 0;
  int64_t interp_n_layer = 0, interp_n_embd = 0, interp_n_vocab = 0;
  int64_t n_coefficients() const { return interp_n_layer * static_cast<int64_t>(modules.size()) * n_bases * 2; }
};

struct CompileOptions {
  // Adapter weight type: f32, f16, q8_0, q4_0; empty = the compiler's default (compiler.adapter_type).
  std::string adapter_type;
  // Pseudo-program strategy; only "spec" (the normalised spec) is built in.
  std::string pseudo_program_strategy = "spec";
  int n_threads = 0;  // encoder threads; 0 = one per physical core
  // Experts compilers: check the router's choice with the spec's worked examples
  // (paw/compiler/expert_check.hpp). Null, a spec without examples or a compiler without
  // experts: the router alone decides.
  const ExpertCheck* expert_check = nullptr;
  // Experts compilers: the program of this expert (a name of CompilerInfo::experts), whatever
  // the router and the check say; empty = route. Throws paw::Error for an unknown name.
  std::string expert;
};

// How package() files an adapter made for this compiler's interpreter.
struct PackageOptions {
  std::string adapter_type;                 // as CompileOptions::adapter_type
  std::string compiler_kind = "mapper";     // meta.json compiler_kind ("finetune_lora" for a finetuned program)
  nlohmann::json extra_meta = nlohmann::json::object();   // more meta.json fields (e.g. "finetune")
};

struct CompileTimings {  // encoder_ms includes tokenizing (microseconds at this size)
  double encoder_ms = 0, mapper_ms = 0, adapter_ms = 0, bundle_ms = 0, total_ms = 0;
  double expert_check_ms = 0;  // the expert check (0 when none ran)
};

struct CompiledProgram {
  Bundle bundle;                  // validated; meta.json carries program_id
  std::string program_id;
  std::string pseudo_program;
  int64_t encoder_tokens = 0;     // encoder input length (spec + pseudo-program + EOS + prefix)
  // Experts compilers: every expert (CompilerInfo::experts) with its routing weight, heaviest
  // first (the weights sum to 1); empty for other compilers.
  struct ExpertRoute {
    std::string name;
    float weight = 0;
  };
  std::vector<ExpertRoute> experts;
  // Experts compilers: the expert whose program this is, and what chose it: "router" (the
  // heaviest routing weight; the program is the router's mix), "examples" (the check found
  // another expert's program answers the spec's examples better; the program is that expert's)
  // or "option" (CompileOptions::expert).
  std::string expert, expert_chosen_by;
  // The check's score of every expert (compiler order); empty when no check ran.
  std::vector<ExpertExampleScore> example_scores;
  CompileTimings timings;
  // The .paw bytes (deterministic ZIP) and an atomic write of them.
  std::vector<uint8_t> paw_bytes() const;
  void write(const std::string& path) const;
};

class Compiler {
 public:
  // Opens and validates a compiler GGUF: general.type "compiler", every compiler.* key, the
  // encoder's shape and every mapper/bases tensor's shape. Throws paw::Error naming the file,
  // key or tensor, with a hint.
  static Compiler open(const std::string& path);
  Compiler(Compiler&&) noexcept;
  Compiler& operator=(Compiler&&) noexcept;
  ~Compiler();

  const CompilerInfo& info() const;

  // Throws paw::Error unless `interpreter_path` is the file this compiler was trained for:
  // same size and SHA-256 (and, through them, the same shape), or a converted copy of it
  // (paw/model/convert.hpp: paw.source.* names that file, and the architecture, layer count
  // and width match). `known_sha256`: the file's
  // SHA-256 when the caller has it already (Interpreter::model_sha256 remembers it across
  // processes); empty = hash the file here.
  void check_interpreter(const std::string& interpreter_path, const std::string& known_sha256 = {}) const;

  // Steps of compile(), for tests and tools.
  std::vector<float> coefficients(std::string_view spec) const;  // [n_coefficients]
  std::map<std::string, LoraWeights> adapter_weights(const std::vector<float>& coefficients) const;
  // Experts compilers: each expert's routing weight [experts.size()] in coefficients (layer 0,
  // first module, A; normalised over the experts). Empty for other compilers.
  std::vector<float> expert_weights(const std::vector<float>& coefficients) const;
  // Experts compilers: the coefficients that give expert `e`'s program alone (routing weight 1)
  // [n_coefficients]. Throws paw::Error for a compiler without experts or e out of range.
  std::vector<float> expert_coefficients(size_t e) const;
  // The index of the expert named `name` in CompilerInfo::experts; nullopt when there is none
  // (compile() then refuses CompileOptions::expert, naming the experts; the server answers 422).
  std::optional<size_t> find_expert(std::string_view name) const;

  // The whole pipeline. Throws paw::Error for an empty or whitespace-only spec, a spec over the
  // encoder's context (saying tokens and bytes), an unknown adapter type or strategy.
  CompiledProgram compile(std::string_view spec, const CompileOptions& o = {}) const;
  // The bundle step of compile() for adapter weights made otherwise (a finetuned program):
  // `pairs` (GGUF base name -> A/B at this compiler's rank, for its interpreter) with the
  // spec's template and meta.json. Only timings.adapter_ms/bundle_ms/total_ms are set.
  CompiledProgram package(std::string_view spec, const std::map<std::string, LoraWeights>& pairs,
                          const PackageOptions& o = {}) const;

 private:
  struct Impl;
  explicit Compiler(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The compiler a command uses when none is named: `given` when not empty, else
// $PAW_COMPILER, else the only *.gguf in the cache's compilers/ folder ($PAW_CACHE_DIR/compilers;
// several: paw::Error listing them), else models/trained/C.gguf of the source tree paw was
// built from, when it exists; "" when none.
std::string find_default_compiler(const std::string& given, const std::string& cache_dir);

}  // namespace paw::compiler
