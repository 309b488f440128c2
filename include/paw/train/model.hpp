#pragma once
// libtorch mirrors of the native interpreters (Qwen3 and GPT-2) for training.
//
// Parameter names are the GGUF tensor names ("token_embd.weight", "blk.3.attn_q.weight",
// "blk.3.attn_qkv.bias", ...): named_parameters() of a TorchModel lists exactly the tensors a
// llama.cpp file of the same shape holds, and each parameter has the torch orientation of the
// GGUF matrix ([n_out, n_in] = ne reversed). Loading and exporting is therefore a 1:1 copy
// (paw/train/gguf_io.hpp).
//
// The forward matches src/model/forward_*.cpp operation by operation (RMSNorm then Q/K norm
// over head_dim before NeoX RoPE, GQA head h -> kv head h / (n_head / n_head_kv), SwiGLU;
// GPT-2: LayerNorm, fused QKV rows Q|K|V, tanh GELU, LoRA before the bias), so logits agree
// with the native runtime to float rounding (tests/train/parity_test.cpp).
//
// LoRA is not part of the model: forward() takes an optional LoraSet whose A/B tensors may be
// trainable parameters (paw/train/lora.hpp) or the output of another network, so gradients
// flow into whatever produced them.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "paw/model/hparams.hpp"

namespace paw::train {

// Shape of a model. `hp` uses the native HParams fields (head_dim_k/_v = key/value_length,
// n_ctx_train = context_length, norm_eps, rope_theta); tied = no output.weight (the head is
// token_embd, as in Qwen3-0.6B).
struct ModelConfig {
  HParams hp;
  bool tied = true;
};

// Throws paw::Error when the shape is invalid (validate_hparams plus GPT-2 specifics).
void validate_config(const ModelConfig& c, const std::string& where);
// Parameters of a model of this shape (embeddings, linears, norms, biases).
int64_t count_params(const ModelConfig& c);

// One linear layer of the model, in GGUF naming and torch orientation [n_out, n_in].
struct LinearSpec {
  std::string name;   // "blk.0.attn_q.weight"
  std::string kind;   // short module name: q k v o gate up down qkv output
  int64_t layer = -1; // -1 for output.weight
  int64_t n_in = 0, n_out = 0;
};

// LoRA tensors for one linear. Unbatched: a [r, n_in], b [n_out, r] (PEFT orientation; the same
// for every row of the batch). Batched: a [B, r, n_in], b [B, n_out, r] (one adapter per batch
// row, e.g. produced by a compiler network from each row's spec).
struct LoraTensors {
  torch::Tensor a;
  torch::Tensor b;
};

// The LoRA terms active in one forward: y = W·x + scale·B·(A·x) (+ bias), with
// scale = user_scale·alpha/rank, or user_scale when alpha is 0 — the native runtime's rule.
struct LoraSet {
  std::map<std::string, LoraTensors> pairs;  // key: GGUF base name ("blk.0.attn_q.weight")
  double alpha = 0.0;
  double user_scale = 1.0;
  double scale_for(int64_t rank) const { return alpha == 0.0 ? user_scale : user_scale * alpha / static_cast<double>(rank); }
};

// A holder for one GGUF tensor group: "weight" and optionally "bias" parameters, so that the
// module path spells the GGUF name (blk -> 0 -> attn_q -> weight).
struct ParamHolderImpl : torch::nn::Module {
  torch::Tensor weight, bias;
  ParamHolderImpl(std::vector<int64_t> weight_shape, bool with_bias, int64_t bias_size = 0);
};
TORCH_MODULE(ParamHolder);

struct BlockImpl;

class TorchModelImpl : public torch::nn::Module {
 public:
  // Parameters are allocated (uninitialised: call init_weights or load them).
  explicit TorchModelImpl(const ModelConfig& cfg);

  const ModelConfig& config() const { return cfg_; }
  const HParams& hparams() const { return cfg_.hp; }

  // Logits [B, T, n_vocab] for tokens [B, T] (int64).
  //   lora:     optional LoRA terms (see LoraSet); pairs naming no linear of the model throw.
  //   segments: optional [B, T] int64. Tokens attend only to earlier tokens of the same
  //             segment id, and positions restart at 0 at each new segment (packed batches).
  //             Undefined: each row is one sequence starting at position 0.
  torch::Tensor forward(const torch::Tensor& tokens, const LoraSet* lora = nullptr,
                        const torch::Tensor& segments = {});
  // The residual stream after each block in `layers` (0-based, in the order given), each
  // [B, T, n_embd] — what the native Session taps (EvalOptions::hidden_layers): the last
  // layer's entry is the stream before the final norm. Blocks after the deepest listed layer,
  // the final norm and the head are not run. Row layout as in forward() (no LoRA, one sequence
  // per row starting at position 0). Throws paw::Error for a layer outside [0, n_layer).
  std::vector<torch::Tensor> forward_hidden(const torch::Tensor& tokens, const std::vector<int64_t>& layers);

  // Random init (deterministic for a seed): linears and embeddings ~ N(0, std), the residual
  // outputs (attn_output, ffn_down) ~ N(0, std / sqrt(2 n_layer)), norm weights 1, biases 0.
  void init_weights(double std, uint64_t seed);
  // requires_grad = !frozen on every parameter (a frozen interpreter under LoRA training).
  void set_frozen(bool frozen);

  // Every linear a LoRA may target, layer by layer in GGUF order (output.weight last if untied).
  std::vector<LinearSpec> linears() const;
  // Parameters by GGUF name (the same as named_parameters(), as a plain map).
  std::map<std::string, torch::Tensor> gguf_tensors() const;

 private:
  // Embeddings and blocks 0..n_blocks-1: the residual stream after them [B, T, n_embd]; with
  // `taps`, also the stream after each block listed in `tap_layers`.
  torch::Tensor trunk(const torch::Tensor& tokens, const LoraSet* lora, const torch::Tensor& segments,
                      int64_t n_blocks, const std::vector<int64_t>* tap_layers, std::vector<torch::Tensor>* taps);
  torch::Tensor linear(const torch::Tensor& x, const ParamHolderImpl& p, const std::string& name,
                       const LoraSet* lora) const;
  torch::Tensor qwen3_block(size_t l, torch::Tensor x, const torch::Tensor& cos, const torch::Tensor& sin,
                            const torch::Tensor& mask, const LoraSet* lora) const;
  torch::Tensor gpt2_block(size_t l, torch::Tensor x, const torch::Tensor& mask, const LoraSet* lora) const;

  ModelConfig cfg_;
  ParamHolder token_embd_{nullptr}, position_embd_{nullptr}, output_norm_{nullptr}, output_{nullptr};
  std::vector<std::shared_ptr<BlockImpl>> blocks_;
};
TORCH_MODULE(TorchModel);

// The GGUF base-name suffix for a short LoRA target name ("q" -> "attn_q", "o" -> "attn_output",
// "qkv" -> "attn_qkv", "gate"/"up"/"down" -> "ffn_*"); throws paw::Error for unknown names.
std::string target_tensor(const std::string& short_name);

}  // namespace paw::train
