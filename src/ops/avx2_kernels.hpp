#pragma once
// Private: the AVX2 (+FMA, F16C) kernels, defined in the *_avx2.cpp files and gathered into
// the "avx2" table by table_avx2.cpp. Call only on a CPU that passed cpu::has_avx2().
#include <cstddef>
#include <cstdint>

#include "paw/ops/kernels.hpp"

namespace paw::avx2 {

// qmatmul_avx2.cpp — quantized weights through 8-bit integer dot products (vpmaddubsw).
bool quant_supported(DType type, int64_t n_in);
size_t quant_scratch_bytes(DType type, int64_t n_in, int64_t n_tokens, int n_threads);
void quant_matmul(const MatrixView& w, const float* x, float* y, int64_t n_tokens, bool accumulate,
                  const OpContext& ctx);
// The table's matmul_group: quantized single-token products share one parallel job.
void matmul_group(const MatmulCall* first, int64_t n_first, const MatmulCall* second, int64_t n_second,
                  const OpContext& ctx);

// matmul_avx2.cpp — the table's matmul: F32/F16/BF16 here, quantized types above, the rest
// through the scalar reference.
void matmul(const MatrixView& w, const float* x, float* y, int64_t n_tokens, bool accumulate, const OpContext& ctx);
size_t matmul_scratch_bytes(DType type, int64_t n_in, int64_t n_tokens, int n_threads);

// elementwise_avx2.cpp
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

// attention_avx2.cpp
void attention(const AttentionArgs& args, const OpContext& ctx);
size_t attention_scratch_bytes(int64_t n_kv, int64_t head_dim_v, int n_threads);

}  // namespace paw::avx2
