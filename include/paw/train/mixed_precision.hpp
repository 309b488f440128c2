#pragma once
// Mixed precision for a forward pass (recipe key "precision": "bf16"). While a scope is alive,
// libtorch's autocast runs matrix products in bfloat16 with float accumulation, on the CPU
// (oneDNN: several times faster than float on CPUs with AVX-512 BF16 or AMX) or on CUDA.
// Weights, gradients and optimizer state stay float; backward replays the recorded casts, so
// it runs after the scope has closed. The model keeps norms in float (see model.cpp).
#include <torch/types.h>

namespace paw::train {

class MixedPrecisionScope {
 public:
  // enabled = false: does nothing (float runs are unchanged).
  MixedPrecisionScope(bool enabled, const torch::Device& device);
  ~MixedPrecisionScope();
  MixedPrecisionScope(const MixedPrecisionScope&) = delete;
  MixedPrecisionScope& operator=(const MixedPrecisionScope&) = delete;

 private:
  bool on_, cuda_, prev_ = false;
};

// `t` in float when autocast made it bfloat16/half; float and double tensors (and integer ones)
// pass through unchanged. For results that need the digits: norms, the loss, argmax.
torch::Tensor at_least_float(const torch::Tensor& t);

}  // namespace paw::train
