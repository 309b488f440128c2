#pragma once
// Private: the scalar reference kernels that fill the scalar KernelTable. SIMD tables may
// reuse any of them for the entries they do not specialise.
#include <cstddef>
#include <cstdint>

#include "paw/ops/kernels.hpp"

namespace paw::scalar {

void matmul(const MatrixView& w, const float* x, float* y, int64_t n_tokens, bool accumulate,
            const OpContext& ctx);
size_t matmul_scratch_bytes(DType type, int64_t n_in, int64_t n_tokens, int n_threads);
void rmsnorm(const float* x, const float* w, float* y, int64_t n_rows, int64_t n, float eps);
void layernorm(const float* x, const float* w, const float* b, float* y, int64_t n_rows, int64_t n, float eps);
void rope_neox(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const float* cos,
               const float* sin);
void rope_interleaved(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const float* cos,
                      const float* sin);
void softmax(float* x, int64_t n);
void silu(const float* x, float* y, int64_t n);
void gelu(const float* x, float* y, int64_t n);
void swiglu(const float* g, const float* u, float* y, int64_t n);
void add(const float* a, const float* b, float* y, int64_t n);
void add_rows(float* y, const float* b, int64_t n_rows, int64_t n);
void scale(const float* x, float s, float* y, int64_t n);
void attention(const AttentionArgs& args, const OpContext& ctx);
size_t attention_scratch_bytes(int64_t n_kv, int64_t head_dim_v, int n_threads);
void store_row(const float* x, void* dst, DType type, int64_t n);

// Dot product of two F32 vectors with 8 independent partial sums (lets the compiler
// vectorise without -ffast-math, and keeps rounding error well below 1e-6 relative).
float dot_f32(const float* a, const float* b, int64_t n);

}  // namespace paw::scalar

namespace paw::ops_detail {

// Bytes rounded up to a 64-byte multiple (per-thread scratch slices stay cache-line aligned).
inline size_t align64(size_t n) { return (n + 63) / 64 * 64; }

// F16 -> F32 through a 65536-entry table built once from paw::f16_to_f32 (bit-exact).
const float* f16_table();

// Throws paw::Error when the context's scratch is smaller than `need` (a caller sizing bug).
void check_scratch(const OpContext& ctx, size_t need, const char* kernel);

}  // namespace paw::ops_detail
