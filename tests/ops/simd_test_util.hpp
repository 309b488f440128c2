#pragma once
// Error bounds for comparing a SIMD kernel table with exact (double) results.
//
// The SIMD matmuls round activations before the dot products, as llama.cpp does:
// - quantized weights: x is rounded per group of 32 values (256 for K-quants, as llama.cpp's
//   Q8_K) to dx·q, dx = max|x|/127, q = round(x/dx), so |x − dx·q| ≤ dx/2 and
//   |Σ w·x − Σ w·dx·q| ≤ Σ_groups (Σ|w|) · max|x| / 254;
// - BF16 weights with vdpbf16ps: x is rounded to BF16 (8 significant bits), a relative error
//   of at most 2^-8 per value, so the dot product moves by at most Σ|w·x| · 2^-8.
// Everything else they compute in F32 like the scalar reference. The bounds below are these
// worst cases (plus a hair for the float rounding of dx and 1/dx); F32 accumulation error is
// covered separately by the callers' relative tolerance.
#include <cmath>
#include <cstdint>
#include <string>

#include "ops/simd.hpp"
#include "paw/ops/kernels.hpp"

namespace paw::test {

enum class ActRounding { None, Int8Blocks, Int8Blocks256, BF16 };

inline bool is_integer_path_type(DType t) {
  switch (t) {
    case DType::Q8_0:
    case DType::Q4_0:
    case DType::Q4_0_X16:
    case DType::Q8_0_X16:
    case DType::Q5_0:
    case DType::Q4_1:
    case DType::Q5_1:
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K: return true;
    default: return false;
  }
}

inline ActRounding act_rounding(const KernelTable& kt, DType type) {
  const std::string name = kt.name;
  if (name == "scalar") return ActRounding::None;
  if (is_integer_path_type(type))
    return traits(type).block_size == 256 ? ActRounding::Int8Blocks256 : ActRounding::Int8Blocks;
  if (type == DType::BF16 && name == "avx512" && cpu::has_avx512_bf16()) return ActRounding::BF16;
  return ActRounding::None;
}

// Largest |y − exact| the activation rounding can cause for one output (row w · token x).
inline double act_error_bound(ActRounding r, const float* w, const float* x, int64_t n) {
  double bound = 0.0;
  if (r == ActRounding::Int8Blocks || r == ActRounding::Int8Blocks256) {
    const int64_t g = r == ActRounding::Int8Blocks ? 32 : 256;
    for (int64_t b = 0; b + g <= n; b += g) {
      double sw = 0.0, amax = 0.0;
      for (int64_t i = b; i < b + g; ++i) {
        sw += std::fabs(w[i]);
        amax = std::fmax(amax, std::fabs(x[i]));
      }
      bound += sw * amax / 254.0 * (1.0 + 1e-5);
    }
  } else if (r == ActRounding::BF16) {
    for (int64_t i = 0; i < n; ++i) bound += std::fabs(static_cast<double>(w[i]) * x[i]);
    bound *= std::ldexp(1.0, -8);
  }
  return bound;
}

inline double act_error_bound(const KernelTable& kt, DType type, const float* w, const float* x, int64_t n) {
  return act_error_bound(act_rounding(kt, type), w, x, n);
}

}  // namespace paw::test
