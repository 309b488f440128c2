// libtorch autocast as a scope (see paw/train/mixed_precision.hpp).
#include "paw/train/mixed_precision.hpp"

#include <ATen/autocast_mode.h>

namespace paw::train {

MixedPrecisionScope::MixedPrecisionScope(bool enabled, const torch::Device& device)
    : on_(enabled), cuda_(device.is_cuda()) {
  if (!on_) return;
  if (cuda_) {
    prev_ = at::autocast::is_enabled();
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(true);
  } else {
    prev_ = at::autocast::is_cpu_enabled();
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(true);
  }
  at::autocast::increment_nesting();
}

MixedPrecisionScope::~MixedPrecisionScope() {
  if (!on_) return;
  // The cast cache holds bfloat16 copies of the weights, which change every step: it must
  // not outlive the outermost scope.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  if (cuda_)
    at::autocast::set_enabled(prev_);
  else
    at::autocast::set_cpu_enabled(prev_);
}

torch::Tensor at_least_float(const torch::Tensor& t) {
  return t.is_floating_point() && t.element_size() < 4 ? t.to(torch::kFloat) : t;
}

}  // namespace paw::train
