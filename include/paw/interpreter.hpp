#pragma once
// paw::Interpreter — one loaded base model (Qwen3 or GPT-2 GGUF, or a Hugging Face folder)
// with its tokenizer, shared by every program that runs on it and by every thread.
//
//   auto interp = paw::Interpreter::open("qwen3-0.6b-q6_k.gguf");
//   auto fn = paw::Program::open("triage.paw", interp);      // paw/run.hpp
//   std::string out = fn("Newsletter: spring picnic");
//
// An Interpreter is a cheap handle: copies share the same model. The weights are read-only
// (mmap) and never change. Evaluation state lives in Sessions (KV cache + buffers) that the
// interpreter keeps in a small pool: a call takes an idle session (or creates one, up to
// max_sessions; beyond that, callers wait), uses it alone, and gives it back. Sessions are
// shared by all programs of the interpreter: a session remembers which adapter and prompt
// prefix it holds, so a program that runs again on the same session only truncates it back
// to its prefix; otherwise the program's saved prefix KV rows are copied in.
#include <cstdint>
#include <memory>
#include <string>

#include "paw/tensor/dtype.hpp"
#include "paw/tokenizer/tokenizer.hpp"

namespace paw {

class Model;   // paw/model/model.hpp
namespace run_detail { struct InterpreterAccess; }   // the api layer's way in (src/api/run_internal.hpp)

struct InterpreterOptions {
  // Threads of one evaluation (OpenMP); 0 = OpenMP's default (all cores).
  int n_threads = 0;
  // Context of each session, in tokens (the reference runs with 2048). GPT-2 is capped at its
  // position table (1024 for GPT-2 124M). A program may use less (its manifest's n_ctx).
  int64_t n_ctx = 2048;
  // Sessions kept for concurrent calls; each holds a KV cache of n_ctx positions
  // (Qwen3-0.6B at F16: 224 MiB for 2048). Calls beyond this many at once wait for one.
  int max_sessions = 4;
  // Cache root for the remembered model hash ($PAW_CACHE_DIR when empty; see model_sha256()).
  std::string cache_dir;
  // Kernel table by name ("scalar" is the reference; see paw/ops/kernels.hpp); empty = the
  // best one for this CPU, or the one $PAW_CPU names.
  std::string kernels;
  // Q4_0 and Q8_0 weights copied once into a 16-row interleaved layout at load (faster decode
  // and prefill); false multiplies them in place from the file mapping. See ModelLoadOptions.
  bool interleave = true;
  // KV cache of every session: F16 (default, as the reference) or F32 ("exact mode": with F32
  // weights the logits then equal a float64 reference to ~1e-6; useful for checks).
  DType kv_type = DType::F16;
};

class Interpreter {
 public:
  // Loads a GGUF model or a Hugging Face folder (config.json + safetensors + tokenizer.json).
  // Throws paw::Error naming the file and what is wrong with it.
  static Interpreter open(const std::string& model_path, const InterpreterOptions& opts = {});

  const std::string& path() const;          // the model path as given
  std::string arch() const;                 // "qwen3" or "gpt2"
  const Model& model() const;               // the model layer's view (paw/model/model.hpp)
  const Tokenizer& tokenizer() const;
  int64_t n_ctx() const;                    // context of every session
  int32_t eos_id() const;                   // the vocabulary's EOS: the only stop token
  // Bytes one token takes in a session's KV cache: every layer's K and V row at kv_type.
  int64_t kv_bytes_per_token() const;

  // SHA-256 of the model file (of every file, for a folder), computed on first use and
  // remembered across processes by a stamp in the cache (size + mtime + sha256): either
  // base_models/.<file>.verified for a model in the cache, or model_hashes/<key>.json for
  // one elsewhere. Binds saved prefix KV states to the exact weights. Thread-safe.
  const std::string& model_sha256() const;

  // Tokens evaluated by all sessions so far (prefill + decode); for tests and metrics.
  uint64_t evaluated_tokens() const;
  // Sessions created so far (never more than max_sessions).
  int sessions_created() const;

  struct Impl;

 private:
  friend struct run_detail::InterpreterAccess;
  explicit Interpreter(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace paw
