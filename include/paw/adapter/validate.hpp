#pragma once
// Checking an adapter against the base model it is about to be attached to.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "paw/adapter/lora.hpp"

namespace paw {

// [n_in, n_out] of the base linear called `base_name` (e.g. "blk.0.attn_q.weight", i.e. its
// GGUF ne), or nullopt when the model has no such tensor. For "token_embd.weight" it is the
// embedding's ne = [n_embd, n_vocab].
using BaseShapeFn = std::function<std::optional<std::array<int64_t, 2>>(const std::string& base_name)>;

// Throws paw::Error naming the adapter file, the tensor and the mismatch when the adapter's
// arch differs from `model_arch`, when a pair targets a tensor the model lacks, or when a
// pair's n_in / n_out differ from the base weight's.
void validate_adapter_for_model(const LoraAdapter& adapter, const std::string& model_arch,
                                const BaseShapeFn& base_shape);

}  // namespace paw
