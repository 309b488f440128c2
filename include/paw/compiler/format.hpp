#pragma once
// What a compiler file is and how its inputs are built — shared by the native compile
// (src/compiler) and the libtorch trainer (src/train), so that the two read a spec exactly the
// same way (docs/FORMATS.md, "Compiler GGUF").
//
// A compiler is one GGUF file: a Qwen3-architecture encoder (the usual model tensors, its
// token_embd carrying K learned prefix rows after the tokenizer's tokens), the mapper
// (mapper.fc1 / mapper.fc2), the shared LoRA bases (compiler.bases.<module>.a / .b) and the
// compiler.* metadata below. Compiling a spec:
//   encoder input = encode(spec + "\n" + pseudo_program, plain text) + [EOS] + [prefix 0..K-1]
//   h             = mean over the chosen encoder layers and the K prefix positions   // [d]
//   c             = fc2(GELU(fc1(h)))                        // [n_layer_interp * M * n_bases * 2]
//   (coef_activation "softmax": c[l, m, :, ab] = softmax over the bases of that group)
//   A[l, m]       = sum_b c[l, m, b, 0] * bases[m].a[b]      // [rank, n_in]
//   B[l, m]       = sum_b c[l, m, b, 1] * bases[m].b[b]      // [n_out, rank]
// modules m in name order (down gate k o q up v for Qwen3), scale = alpha / rank.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "paw/program/bundle.hpp"
#include "paw/util/error.hpp"

namespace paw {
class Tokenizer;
}

namespace paw::compiler {

inline constexpr const char* kGeneralType = "compiler";  // general.type of a compiler file
inline constexpr uint32_t kFormatVersion = 2;            // compiler.version written (1 = no coef_activation)
inline constexpr uint32_t kOldestFormatVersion = 1;      // oldest compiler.version read

// Metadata keys (docs/FORMATS.md lists types and meaning).
namespace key {
inline constexpr const char* version = "compiler.version";
inline constexpr const char* name = "compiler.name";
inline constexpr const char* prefix_tokens = "compiler.prefix_tokens";
inline constexpr const char* prefix_first_id = "compiler.prefix_first_id";
inline constexpr const char* encoder_layers = "compiler.encoder_layers";
inline constexpr const char* mapper_hidden = "compiler.mapper_hidden";
inline constexpr const char* n_bases = "compiler.n_bases";
inline constexpr const char* lora_rank = "compiler.lora.rank";
inline constexpr const char* lora_alpha = "compiler.lora.alpha";
inline constexpr const char* lora_modules = "compiler.lora.modules";
inline constexpr const char* spec_conditioned = "compiler.spec_conditioned";
inline constexpr const char* coef_activation = "compiler.coef_activation";
// Optional (experts compilers): one name per expert; basis l*E + e of layer l is expert e's.
inline constexpr const char* experts = "compiler.experts";
inline constexpr const char* program_template = "compiler.template";
inline constexpr const char* adapter_type = "compiler.adapter_type";
inline constexpr const char* interp_name = "compiler.interpreter.name";
inline constexpr const char* interp_sha256 = "compiler.interpreter.sha256";
inline constexpr const char* interp_size = "compiler.interpreter.size";
inline constexpr const char* interp_arch = "compiler.interpreter.arch";
inline constexpr const char* interp_n_layer = "compiler.interpreter.n_layer";
inline constexpr const char* interp_n_embd = "compiler.interpreter.n_embd";
inline constexpr const char* interp_n_vocab = "compiler.interpreter.n_vocab";
// Optional (a rebased experts compiler, paw/compiler/rebase.hpp): the SHA-256 of the control
// compilers whose program difference moved every expert's program (dropped once every expert
// has been set to another program).
inline constexpr const char* rebase_from = "compiler.rebase.from_sha256";
inline constexpr const char* rebase_to = "compiler.rebase.to_sha256";
// Optional, one per expert set to another control's program: compiler.rebase.set.<expert> =
// that control compiler's SHA-256.
inline constexpr const char* rebase_set_prefix = "compiler.rebase.set.";
}  // namespace key

// Placeholders of a compiler's program template: the pseudo-program is substituted at
// compile time; the input placeholder stays, exactly once, for the runtime.
inline constexpr std::string_view kPseudoProgramPlaceholder = "{PSEUDO_PROGRAM}";
inline constexpr std::string_view kInputPlaceholder = paw::kInputPlaceholder;  // paw/program/bundle.hpp

// The template of the trained tiny interpreters: their prompted format (docs/TRAINING.md,
// "Data format") with the pseudo-program where the spec was.
std::string prompted_template();

// Substitutes the pseudo-program into a compiler template. Throws paw::Error unless the
// template holds {PSEUDO_PROGRAM} and {INPUT_PLACEHOLDER} exactly once each (and the
// pseudo-program itself holds neither placeholder).
std::string render_template(std::string_view tmpl, std::string_view pseudo_program);

// The "spec" pseudo-program strategy: the spec with line ends made "\n", trailing blanks of
// every line and blank lines at both ends removed, and runs of 3+ newlines cut to 2. Spaces
// inside a line are kept (worked examples may depend on them).
std::string normalize_spec(std::string_view spec);

// Encoder layers for an interpreter of `n_interp` layers, chosen by depth ratio from an
// encoder of `n_enc` layers: int((l + 1) * n_enc / n_interp) - 1 for l = 0..n_interp-1,
// duplicates kept (the reference takes 28 of 36).
std::vector<int64_t> depth_ratio_layers(int64_t n_interp, int64_t n_enc);

// Modules (short names) in the order coefficients and bases use: sorted by name.
std::vector<std::string> sorted_modules(std::vector<std::string> modules);

// GGUF tensor of a short module name: q -> attn_q, k, v, o -> attn_output, gate/up/down -> ffn_*.
// Throws paw::Error for other names.
std::string module_tensor(const std::string& short_name);

// How the mapper's outputs become coefficients (compiler.coef_activation; version 1 files have
// no key and are "linear"):
//   "linear"  — the outputs are the coefficients;
//   "softmax" — each (layer, module, A|B) group of n_bases outputs is a softmax over the bases
//               (routing logits): a program picks among the bases, which breaks the symmetry
//               that lets linear coefficients collapse to one adapter for every spec.
// Inline so that the recipe parser (built alone for fuzzing) reads the same names.
enum class CoefActivation { Linear, Softmax };
// Parses "linear" / "softmax"; throws paw::Error naming `where` otherwise.
inline CoefActivation parse_coef_activation(std::string_view name, const std::string& where) {
  if (name == "linear") return CoefActivation::Linear;
  if (name == "softmax") return CoefActivation::Softmax;
  throw Error("unknown coefficient activation '" + std::string(name) + "'", where, "use \"linear\" or \"softmax\"");
}
inline const char* coef_activation_name(CoefActivation a) { return a == CoefActivation::Softmax ? "softmax" : "linear"; }

// Index of coefficient (layer, module, basis, ab) in the mapper's output (ab 0 = A, 1 = B).
inline int64_t coef_index(int64_t layer, int64_t module, int64_t basis, int64_t ab, int64_t n_modules,
                          int64_t n_bases) {
  return ((layer * n_modules + module) * n_bases + basis) * 2 + ab;
}

struct EncoderInputOptions {
  int32_t eos_id = -1;            // the tokenizer's EOS
  int32_t prefix_first_id = -1;   // id of prefix token 0 (ids prefix_first_id .. +K-1)
  int64_t prefix_tokens = 0;      // K
  int64_t max_tokens = 0;         // encoder context: the whole input must fit
  bool spec_conditioned = true;   // false: the encoder sees an empty spec (the control)
};

// The encoder's token ids for a spec; the prefix positions are the last K. Text is tokenized
// without special-token parsing (a spec cannot inject control tokens). Throws paw::Error when
// the input does not fit max_tokens, saying how many tokens and bytes the spec has.
std::vector<int32_t> encoder_input(const Tokenizer& tok, std::string_view spec, std::string_view pseudo_program,
                                   const EncoderInputOptions& o);

}  // namespace paw::compiler
