#pragma once
// Private: the AVX-512 kernels, defined in the *_avx512.cpp files and gathered into the
// "avx512" table by glue_avx512.cpp. Call only on a CPU that passed cpu::has_avx512().
#include <cstddef>
#include <cstdint>

#include "paw/ops/kernels.hpp"

namespace paw::avx512 {

#include "ops/simd_isa_kernels.inc"

// BF16 weights either through vdpbf16ps (activations rounded to BF16; needs AVX512_BF16) or
// widened to F32 (exact activations). matmul picks the first where the CPU has it; tests
// call both.
void matmul_bf16(const MatrixView& w, const float* x, float* y, int64_t n_tokens, bool accumulate,
                 const OpContext& ctx, bool dot_instructions);

}  // namespace paw::avx512
