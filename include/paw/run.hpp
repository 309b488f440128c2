#pragma once
// paw::Program — a program (.paw bundle, bundle folder or cached id) bound to an Interpreter,
// callable like a function. Also the adapter-free "base" mode of the reference.
//
//   auto interp = paw::Interpreter::open("model.gguf");
//   auto fn = paw::Program::open("triage.paw", interp);
//   std::string out = fn("Newsletter: spring picnic");          // greedy, reference semantics
//   auto r = fn.run("...", {.max_tokens = 16});                  // output + token counts
//
// Run semantics (the reference runtime's, docs/ARCHITECTURE.md "program"): the template is
// split at {INPUT_PLACEHOLDER}; the prefix is tokenized once (special tokens parsed, no BOS)
// and evaluated with the adapter attached at scale 1.0; each call tokenizes `input + suffix`
// as one string, evaluates it after the prefix, decodes greedily until the vocabulary's EOS
// id, max_tokens or the context limit, and returns the text without special tokens, invalid
// UTF-8 replaced by U+FFFD, surrounding whitespace trimmed. A call whose prompt does not fit
// the context throws paw::Error before evaluating anything.
//
// Threads: a Program is a cheap handle (copies share state) and may be called from any
// number of threads at once; each call borrows a session from the interpreter's pool.
//
// Prefix KV cache: the evaluated prefix is saved as prefix_kv_cache.bin in the program's
// cache folder ($PAW_CACHE_DIR/programs/<id>/) and reused by later processes when the model
// hash, adapter hash and prefix token ids match. A .paw file or bundle folder is imported
// into the cache first so that the file has a home (ProgramOptions::import_into_cache). Any
// problem with that file only costs evaluating the prefix again (docs/FORMATS.md "Running
// programs").
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "paw/interpreter.hpp"

namespace paw {

class LoraAdapter;
// A program bundle read from disk (paw/program/program_bundle.hpp: meta.json, template, adapter
// bytes). Only the overloads below that take or return one need that header.
struct ProgramBundle;

struct RunOptions {
  int64_t max_tokens = -1;     // -1 = until EOS or the context is full; 0 = nothing
  float temperature = 0.0f;    // 0 = greedy; > 0 samples with top_k 40, top_p 0.95, min_p 0.05
  uint64_t seed = 0;           // sampling seed (same seed and input -> same output)
  // Called on the calling thread after each generated token (EOS excluded) with its id;
  // return false to stop there (cancellation: the result holds the tokens so far and
  // stopped_at_eos is false). Empty: run to the end. For streaming text, decode the ids
  // so far (Tokenizer::decode) and emit what grew.
  std::function<bool(int32_t id)> on_token = nullptr;
};

struct RunResult {
  std::string output;            // detokenized, trimmed
  std::vector<int32_t> ids;      // generated ids (EOS excluded)
  int64_t prefix_tokens = 0;     // template prefix (0 in base mode)
  int64_t input_tokens = 0;      // input + suffix (base mode: the whole rendered prompt)
  bool stopped_at_eos = false;   // false: max_tokens, context limit, or on_token said stop
  bool cancelled = false;        // on_token returned false
};

// Where the prefix KV state of a program came from when it was opened.
enum class PrefixSource {
  None,       // empty prefix, or base mode
  Disk,       // prefix_kv_cache.bin matched every binding
  Computed,   // evaluated now (no usable file, or the disk cache is off)
};

struct ProgramOptions {
  // Program cache root; empty = $PAW_CACHE_DIR or ~/.cache/programasweights.
  std::string cache_dir;
  // Read and write prefix_kv_cache.bin (off: evaluate the prefix in every process).
  bool prefix_cache = true;
  // With prefix_cache on, a .paw file or folder that is not in the cache is imported into it
  // (as `paw import` would) so its prefix file lives in programs/<id>/. When the import is
  // impossible (read-only cache, a different program with the same id), the program still
  // runs, without the disk cache.
  bool import_into_cache = true;
  // Context for this program; 0 = the runtime manifest's n_ctx (2048 unless it says
  // otherwise), capped by the interpreter's.
  int64_t n_ctx = 0;
  // One-line notes and warnings (cache problems, running on another base model). Empty:
  // printed to stderr as "paw: note: ..." / "paw: warning: ...".
  std::function<void(std::string_view level, std::string_view message)> log;

  // Used only by Program::open(ref, options) without an interpreter: which base model to
  // load (see resolve_base_model: --model / $PAW_MODEL override, else the cache's
  // base_models/ file named by the program's runtime manifest).
  std::string model_override;
  bool offline = false;
  InterpreterOptions interpreter;
};

class Program {
 public:
  // Opens `ref` (a .paw file, a bundle folder, or a cached id / unique id prefix) on `interp`.
  // Loads the adapter, checks it against the model (architecture, every target tensor and
  // shape; paw::Error otherwise), and prepares the prefix KV state (from prefix_kv_cache.bin
  // when valid, else by evaluating the prefix and saving the file). When the interpreter's
  // model is not the base the program was compiled for, a warning is logged.
  static Program open(const std::string& ref, const Interpreter& interp, const ProgramOptions& opts = {});
  // The same from a bundle already read (load_program / open_program). A non-empty
  // bundle.cache_dir is the program's cache folder, where prefix_kv_cache.bin goes.
  static Program open(ProgramBundle bundle, const Interpreter& interp, const ProgramOptions& opts = {});
  // Opens `ref` and loads the base model its runtime manifest names (or the override).
  static Program open(const std::string& ref, const ProgramOptions& opts = {});

  // The reference's adapter-free base interpreter: a built-in template for the model's
  // architecture (base_prompt_template), the whole rendered prompt tokenized per call.
  static Program base(const Interpreter& interp, const ProgramOptions& opts = {});

  std::string operator()(std::string_view input) const { return run(input).output; }
  RunResult run(std::string_view input, const RunOptions& opts = {}) const;

  bool is_base() const;
  const std::string& id() const;            // program id; empty in base mode
  const std::string& interpreter_name() const;   // meta.json's interpreter ("Qwen/Qwen3-0.6B"), or the base's
  const ProgramBundle* bundle() const;      // null in base mode
  const Interpreter& interpreter() const;
  int64_t n_ctx() const;
  int64_t prefix_tokens() const;
  PrefixSource prefix_source() const;
  // programs/<id>/prefix_kv_cache.bin, or empty when the program has no disk cache.
  const std::string& prefix_cache_path() const;
  // True when the interpreter's model is not the base the program was compiled for.
  bool runs_on_other_base() const;

  struct Impl;

 private:
  friend class BatchRunner;  // runs calls of many programs in one decode batch (paw/batch.hpp)
  explicit Program(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Reads `ref` as Program::open does: a .paw file or folder (imported into the cache when
// opts.prefix_cache and opts.import_into_cache are set; an import that fails is logged and
// the bundle is used from where it is), else a cached id or unique id prefix. The result's
// cache_dir is set when the program is in the cache.
ProgramBundle load_program(const std::string& ref, const ProgramOptions& opts = {});

// The program's LoRA adapter: from bundle.adapter_path when set (mapped), else from its bytes
// in memory (LoraAdapter::from_gguf_bytes; no file is written).
std::shared_ptr<const LoraAdapter> load_program_adapter(const ProgramBundle& bundle);

// Trims whitespace as Python's str.strip() does (the reference strips its output): ASCII
// whitespace, \x1c-\x1f, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F,
// U+205F, U+3000.
std::string trim_output(std::string_view text);

}  // namespace paw
