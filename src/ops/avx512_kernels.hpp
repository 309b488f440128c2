#pragma once
// Private: the AVX-512 kernels, defined in the *_avx512.cpp files and gathered into the
// "avx512" table by table_avx512.cpp. Call only on a CPU that passed cpu::has_avx512().
#include <cstddef>
#include <cstdint>

#include "paw/ops/kernels.hpp"

namespace paw::avx512 {

// qmatmul_avx512.cpp — quantized weights through VNNI integer dot products.
bool quant_supported(DType type, int64_t n_in);
size_t quant_scratch_bytes(DType type, int64_t n_in, int64_t n_tokens, int n_threads);
void quant_matmul(const MatrixView& w, const float* x, float* y, int64_t n_tokens, bool accumulate,
                  const OpContext& ctx);
// The table's matmul_group: quantized in-place products share one parallel job.
void matmul_group(const MatmulCall* first, int64_t n_first, const MatmulCall* second, int64_t n_second,
                  const OpContext& ctx);

// matmul_avx512.cpp — the table's matmul: F32/F16/BF16 here, quantized types above, the rest
// through the scalar reference.
void matmul(const MatrixView& w, const float* x, float* y, int64_t n_tokens, bool accumulate, const OpContext& ctx);
size_t matmul_scratch_bytes(DType type, int64_t n_in, int64_t n_tokens, int n_threads);
// BF16 weights either through vdpbf16ps (activations rounded to BF16; needs AVX512_BF16) or
// widened to F32 (exact activations). matmul picks the first where the CPU has it; tests
// call both.
void matmul_bf16(const MatrixView& w, const float* x, float* y, int64_t n_tokens, bool accumulate,
                 const OpContext& ctx, bool dot_instructions);

// elementwise_avx512.cpp
void rmsnorm(const float* x, const float* w, float* y, int64_t n_rows, int64_t n, float eps);
void layernorm(const float* x, const float* w, const float* b, float* y, int64_t n_rows, int64_t n, float eps);
void rope_neox(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const float* cos, const float* sin);
void rope_interleaved(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const float* cos,
                      const float* sin);
void softmax(float* x, int64_t n);
void silu(const float* x, float* y, int64_t n);
void gelu(const float* x, float* y, int64_t n);
void swiglu(const float* g, const float* u, float* y, int64_t n);
void add(const float* a, const float* b, float* y, int64_t n);
void add_rows(float* y, const float* b, int64_t n_rows, int64_t n);
void scale(const float* x, float s, float* y, int64_t n);
void store_row(const float* x, void* dst, DType type, int64_t n);

// attention_avx512.cpp
void attention(const AttentionArgs& args, const OpContext& ctx);
size_t attention_scratch_bytes(int64_t n_kv, int64_t head_dim_v, int n_threads);

}  // namespace paw::avx512
