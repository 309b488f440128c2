#pragma once
// The weight binding table: for each architecture, ONE list of the tensors a model has —
// GGUF name pattern, Hugging Face name pattern, expected shape in terms of the
// hyper-parameters, required or optional, and what kind of tensor it is. The same table
// drives loading, validation (errors name the tensor and the expected and actual shapes),
// size accounting, and LoRA target lookup (linears only).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "paw/model/hparams.hpp"
#include "paw/ops/matrix_view.hpp"

namespace paw {

// A bound tensor. Data stays where it was loaded (the GGUF mapping); only small vectors in
// a non-F32 type and tensors that need reordering (HF GPT-2 Conv1D) are converted into
// buffers the Model owns.
struct WeightRef {
  std::string name;             // GGUF name; empty when the (optional) tensor is absent
  MatrixView view;              // rows = ne[1] (1 for a vector), cols = ne[0]
  const float* f32 = nullptr;   // vectors (norm weights, biases): F32 values
  int linear = -1;              // index in Model::linears() when the tensor is a linear
  uint64_t n_bytes = 0;         // stored size
  // The form the kernels multiply, when it is not `view` itself: a Q4_0 / Q8_0 matrix
  // interleaved into Q4_0_X16 / Q8_0_X16 at load (ModelLoadOptions::interleave). Same values, other layout;
  // `view` stays the file's bytes for everything else (lookups, exports, training).
  MatrixView kernel;
  bool present() const { return view.data != nullptr; }
  const MatrixView& kernel_view() const { return kernel.data ? kernel : view; }
};

struct LayerWeights {
  WeightRef attn_norm, attn_norm_b;
  WeightRef attn_q, attn_k, attn_v;           // qwen3
  WeightRef attn_q_norm, attn_k_norm;         // qwen3: RMSNorm over head_dim, before RoPE
  WeightRef attn_qkv, attn_qkv_b;             // gpt2: fused, rows Q then K then V
  WeightRef attn_output, attn_output_b;
  WeightRef ffn_norm, ffn_norm_b;
  WeightRef ffn_gate;                         // qwen3 (SwiGLU)
  WeightRef ffn_up, ffn_up_b, ffn_down, ffn_down_b;
};

struct ModelWeights {
  WeightRef token_embd;      // [n_vocab rows, n_embd cols]
  WeightRef position_embd;   // gpt2: [n_ctx_train rows, n_embd cols]
  WeightRef output_norm, output_norm_b;
  WeightRef output;          // optional: absent -> the head is token_embd (tied)
  std::vector<LayerWeights> layers;
};

// Symbolic sizes used in expected shapes.
enum class Dim : uint8_t { None, Embd, Vocab, Ff, Ctx, HeadK, QDim, KDim, VDim, ODim, QKVDim };
int64_t dim_value(Dim d, const HParams& hp);
std::string_view dim_name(Dim d);  // "n_embd", "n_head*head_dim", ...

enum class TensorKind : uint8_t {
  Linear,     // a matmul weight; LoRA may target it
  Vector,     // norm weight or bias (F32 for the kernels)
  Embedding,  // a lookup table (token_embd, position_embd)
};

struct TensorSpec {
  std::string_view gguf;   // GGUF name pattern; "{i}" stands for the layer index
  std::string_view hf;     // Hugging Face name pattern (without a "transformer."/"model." wrapper)
  Dim ne0, ne1;            // expected GGUF shape (ne order: ne0 = row length); ne1 None = 1-D
  bool required;
  TensorKind kind;
  bool hf_transposed;      // HF stores it [in, out] (GPT-2 Conv1D), GGUF [out rows of in]
  WeightRef LayerWeights::*layer_field;   // set for per-layer tensors
  WeightRef ModelWeights::*model_field;   // set for model-level tensors

  bool per_layer() const { return layer_field != nullptr; }
};

// The binding table of an architecture, in GGUF file order.
std::span<const TensorSpec> tensor_specs(Arch a);
// The pattern with "{i}" replaced by the layer index.
std::string spec_name(std::string_view pattern, int64_t layer);
// "[256, 512]" and "[n_embd, n_ff]" renderings of a spec's expected shape.
std::string expected_shape_string(const TensorSpec& s, const HParams& hp);

}  // namespace paw
