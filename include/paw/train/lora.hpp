#pragma once
// LoRA for the libtorch models: which linears to adapt, trainable A/B parameters, and export
// to a llama.cpp adapter GGUF that the native runtime attaches.
//
// A LoRA is just a LoraSet (paw/train/model.hpp) handed to TorchModel::forward. LoraModule
// owns trainable A/B parameters and hands out a LoraSet of them; any other network may build a
// LoraSet from its own outputs instead (a compiler emitting per-row adapters), and gradients
// reach it through the frozen interpreter the same way.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "paw/tensor/dtype.hpp"
#include "paw/train/model.hpp"

namespace paw::train {

struct LoraConfig {
  int64_t rank = 8;
  // scale = alpha / rank (llama.cpp and PEFT); alpha 0 means scale 1.
  double alpha = 16.0;
  // Short module names (see target_tensor()): q k v o gate up down for Qwen3, qkv o up down for
  // GPT-2, plus "output" for an untied head. Names that the architecture lacks are an error.
  std::vector<std::string> targets = {"q", "k", "v", "o", "gate", "up", "down"};
  // Layers to adapt (empty = all).
  std::vector<int64_t> layers;
};

// The model's linears selected by the config, in model order; throws paw::Error for a target
// name or layer the model does not have.
std::vector<LinearSpec> lora_targets(const TorchModelImpl& model, const LoraConfig& cfg);

// Trainable adapters: for each target, a [r, n_in] ~ U(-1/sqrt(n_in), 1/sqrt(n_in)) (PEFT's
// default Kaiming-uniform bound) and b [n_out, r] = 0, so a fresh LoRA leaves the model as is.
// Parameters are registered as "<base name with '.' -> '_'>_lora_a" / "_lora_b".
class LoraModuleImpl : public torch::nn::Module {
 public:
  LoraModuleImpl(const TorchModelImpl& model, LoraConfig cfg, uint64_t seed = 1);

  const LoraConfig& config() const { return cfg_; }
  const std::vector<LinearSpec>& targets() const { return targets_; }
  // The current parameters as a LoraSet (tensors share storage: gradients reach this module).
  LoraSet lora_set() const;
  // A / B of one target (by GGUF base name); throws paw::Error for an unknown name.
  torch::Tensor& a(const std::string& base_name);
  torch::Tensor& b(const std::string& base_name);

 private:
  LoraConfig cfg_;
  std::vector<LinearSpec> targets_;
  std::vector<torch::Tensor> a_, b_;  // parallel to targets_
};
TORCH_MODULE(LoraModule);

// Reads a llama.cpp LoRA GGUF (paw::LoraAdapter::load_gguf, any weight type) into an unbatched
// LoraSet of F32 CPU tensors with the file's alpha. The token-embedding pair, which is not a
// linear, is refused.
LoraSet load_lora_gguf(const std::string& path);

// Writes an unbatched LoraSet (2-D a/b) as a llama.cpp LoRA GGUF for `arch` ("qwen3"/"gpt2"),
// tensors quantized to `type` (Q8_0/Q4_0 need n_in and rank multiples of 32). The set's alpha
// goes to adapter.lora.alpha, so the native scale alpha/rank equals the training scale; a
// user_scale other than 1 is not representable in the file and is refused.
void export_lora_gguf(const LoraSet& set, const std::string& arch, const std::string& path,
                      DType type = DType::F32);

}  // namespace paw::train
