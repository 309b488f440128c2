#pragma once
// LoRA adapters, applied unmerged: for a linear with base weight W (GGUF name
// "blk.N.attn_q.weight"), y = W·x + Σ_i scale_i · B_i(A_i·x), where
// scale_i = user_scale_i · alpha_i / rank_i (user_scale_i when alpha_i is 0).
//
// llama.cpp adapter GGUF layout: general.type=adapter, adapter.type=lora,
// adapter.lora.alpha (f32), general.architecture = the base model's arch; tensors
// "<base>.lora_a" with ne = [n_in, r] (r rows of n_in) and "<base>.lora_b" with
// ne = [r, n_out] (n_out rows of r), any weight type (Q4_0 needs r % 32 == 0).
// "<base>" is the base tensor name including ".weight".
//
// Exceptions, as llama.cpp: "*_norm.weight" tensors are ignored; "token_embd.weight" is an
// embedding lookup, not a linear, and llama.cpp stores its pair flipped (see
// embedding_pair()). docs/FORMATS.md "LoRA adapters" has the details.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "paw/tensor/dtype.hpp"
#include "paw/tensor/matrix_view.hpp"

namespace paw {

class GGUFFile;

// A view of one stored matrix: `rows` rows of `cols` elements in `type`, row-major,
// row stride row_bytes(type, cols). Data lives in the owning file's mapping or buffer.
// MatrixView (paw/tensor/matrix_view.hpp): rows × cols of a stored type.

struct LoraPair {
  MatrixView a;   // [r rows, n_in cols]    (ne [n_in, r])
  MatrixView b;   // [n_out rows, r cols]   (ne [r, n_out])
  // The same two matrices as the forward multiplies them: Q4_0 / Q8_0 ones interleaved 16 rows
  // at a time (Q4_0_X16 / Q8_0_X16, paw/tensor/interleave.hpp — same values, same bytes, several
  // times fewer instructions for LoRA's short rows), made once at load and owned by the
  // adapter; other types are a and b themselves.
  MatrixView a_kernel, b_kernel;
  int64_t rank() const { return a.rows; }
};

// LoRA on the token embedding, in llama.cpp's flipped layout: the delta added to the
// embedding of token t is B · a_row(t) (then scaled like any pair).
//   a: [n_vocab rows, r cols]  (ne [r, n_vocab]) — one r-vector per token, gathered by id
//   b: [n_embd rows,  r cols]  (ne [r, n_embd])
struct LoraEmbeddingPair {
  MatrixView a;
  MatrixView b;
  int64_t rank() const { return b.cols; }
};

namespace detail { struct LoraAdapterBuilder; }

class LoraAdapter {
 public:
  // Loads a llama.cpp LoRA GGUF; validates type keys, pairs, shapes (see above).
  static std::shared_ptr<const LoraAdapter> load_gguf(const std::string& path);
  // The same from GGUF bytes in memory (a bundle's adapter.gguf member, a compiler's output):
  // the adapter keeps `bytes` alive and its views point into them; `name` stands for the path
  // in errors and path(). No file is written.
  static std::shared_ptr<const LoraAdapter> from_gguf_bytes(std::shared_ptr<const std::vector<uint8_t>> bytes,
                                                            const std::string& name);
  // Loads a PEFT folder (adapter_config.json + adapter_model.safetensors), mapping HF module
  // names to GGUF names for `arch` ("qwen3" or "gpt2"). Values are converted to F32.
  static std::shared_ptr<const LoraAdapter> load_peft(const std::string& dir, const std::string& arch);
  // Either of the above, chosen by path kind: a directory (or a file inside a PEFT folder)
  // loads as PEFT with arch = arch_hint, or guessed from base_model_name_or_path when the
  // hint is empty; anything else loads as GGUF, and a non-empty hint must match its arch.
  static std::shared_ptr<const LoraAdapter> load(const std::string& path, const std::string& arch_hint = {});

  const std::string& path() const { return path_; }
  const std::string& arch() const { return arch_; }
  float alpha() const { return alpha_; }
  const std::string& sha256() const { return sha256_; }   // of the adapter file(s)
  // Keyed by base tensor name, e.g. "blk.0.attn_q.weight". Never holds token_embd.weight.
  const std::map<std::string, LoraPair>& pairs() const { return pairs_; }
  const LoraPair* find(const std::string& base_name) const;
  // alpha/rank factor for one pair (1 when alpha is 0), before the user scale.
  float pair_factor(const LoraPair& p) const;
  // The token_embd.weight pair if the adapter has one (null otherwise); its factor is
  // alpha/rank() too (1 when alpha is 0).
  const LoraEmbeddingPair* embedding_pair() const { return embedding_ ? &*embedding_ : nullptr; }
  float embedding_factor() const;
  // Number of "*_norm.weight" tensors that were present and ignored (as llama.cpp does).
  int64_t ignored_norm_tensors() const { return ignored_norms_; }

  // Opaque: the GGUF mapping or the owned F32 buffers the views point into.
  struct Storage;

 private:
  friend struct detail::LoraAdapterBuilder;
  std::shared_ptr<Storage> storage_;
  std::string path_, arch_, sha256_;
  float alpha_ = 0.0f;
  std::map<std::string, LoraPair> pairs_;
  std::optional<LoraEmbeddingPair> embedding_;
  int64_t ignored_norms_ = 0;
};

// An adapter attached to a session with the user's scale.
struct ActiveAdapter {
  std::shared_ptr<const LoraAdapter> adapter;
  float scale = 1.0f;
};

}  // namespace paw
