#pragma once
// Shared by `paw generate`, `paw logits`, `paw hidden` and `paw export-lora`: the
// --model / --lora FILE[:SCALE] options, loading them, and tokenizing --prompt.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "paw/adapter/lora.hpp"
#include "paw/model/model.hpp"
#include "paw/runtime/session.hpp"
#include "paw/tokenizer/tokenizer.hpp"

namespace paw::cli {

// "FILE[:SCALE]": only a trailing ':' followed by a plain decimal number ([+-]digits[.digits]
// [e[+-]digits]) is a scale, so paths may contain ':' ("C:\a.gguf", "runs:3/a.gguf"). A file
// whose name itself ends in ":<number>" is given as "FILE:<number>:1". Throws paw::Error for
// an empty path or a non-finite scale.
struct LoraSpec {
  std::string path;
  float scale = 1.0f;
};
LoraSpec parse_lora_spec(const std::string& spec);

// Options common to the model commands (defaults documented in the --help text).
// --no-interleave's help, shared by every command that loads a model.
inline constexpr const char* kNoInterleaveHelp =
    "Multiply Q4_0/Q8_0 weights in place from the file mapping instead of a copy interleaved 16 rows at a time at "
    "load (slower on AVX2/AVX-512, but the weight pages stay shared with other processes)";

struct ModelArgs {
  std::string model;                 // GGUF file or HF folder
  std::vector<std::string> loras;    // FILE[:SCALE], attach order
  int threads = 0;                   // 0 = default_thread_count(): one per physical core
  std::string kv_type = "f16";       // KV cache: f16 | f32
  int64_t n_ctx = 0;                 // 0 = min(model context, 2048)
  bool no_interleave = false;        // use Q4_0/Q8_0 weights in place (ModelLoadOptions::interleave)
};
// Adds --model, --lora (when with_lora), -t/--threads, --kv-type, -c/--ctx (when with_ctx),
// --no-interleave (when with_interleave: commands that multiply with the weights).
void add_model_options(CLI::App* cmd, ModelArgs& a, bool with_lora = true, bool with_ctx = true,
                       bool with_interleave = true);

struct LoadedModel {
  std::shared_ptr<const Model> model;
  Tokenizer tokenizer;
  std::vector<ActiveAdapter> adapters;
};
// Loads the model, its tokenizer (GGUF metadata, or tokenizer.json of an HF folder) and every
// --lora adapter (validated against the model when a session attaches them).
LoadedModel load_model(const ModelArgs& a);

// Session options from the arguments; n_ctx_override > 0 replaces a.n_ctx.
SessionOptions session_options(const ModelArgs& a, int64_t n_ctx_override = 0);
// A session with the adapters attached (throws paw::Error naming a mismatching adapter).
Session make_session(const LoadedModel& m, const SessionOptions& so);

// The prompt's ids: special tokens parsed unless no_special, BOS only when the model's
// metadata asks for it (tokenizer.ggml.add_bos_token). Throws paw::Error for an empty result.
std::vector<int32_t> tokenize_prompt(const LoadedModel& m, const std::string& text, bool no_special);

}  // namespace paw::cli
