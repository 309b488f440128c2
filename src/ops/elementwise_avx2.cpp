// AVX2 element-wise kernels: the shared templates of simd_elementwise.hpp on 8-float vectors.
#include "ops/avx2_kernels.hpp"
#include "ops/scalar.hpp"
#include "ops/simd_elementwise.hpp"

namespace paw::avx2 {

using simd::V256;

void rmsnorm(const float* x, const float* w, float* y, int64_t n_rows, int64_t n, float eps) {
  simd::rmsnorm_t<V256>(x, w, y, n_rows, n, eps);
}
void layernorm(const float* x, const float* w, const float* b, float* y, int64_t n_rows, int64_t n, float eps) {
  simd::layernorm_t<V256>(x, w, b, y, n_rows, n, eps);
}
void rope_neox(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const float* cos, const float* sin) {
  simd::rope_neox_t<V256>(x, n_tokens, n_heads, head_dim, cos, sin);
}
void rope_interleaved(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const float* cos,
                      const float* sin) {
  simd::rope_interleaved_t<V256>(x, n_tokens, n_heads, head_dim, cos, sin);
}
void softmax(float* x, int64_t n) { simd::softmax_t<V256>(x, n); }
void silu(const float* x, float* y, int64_t n) { simd::silu_t<V256>(x, y, n); }
void gelu(const float* x, float* y, int64_t n) { simd::gelu_t<V256>(x, y, n); }
void swiglu(const float* g, const float* u, float* y, int64_t n) { simd::swiglu_t<V256>(g, u, y, n); }
void add(const float* a, const float* b, float* y, int64_t n) { simd::add_t<V256>(a, b, y, n); }
void add_rows(float* y, const float* b, int64_t n_rows, int64_t n) { simd::add_rows_t<V256>(y, b, n_rows, n); }
void scale(const float* x, float s, float* y, int64_t n) { simd::scale_t<V256>(x, s, y, n); }
void store_row(const float* x, void* dst, DType type, int64_t n) {
  if (!simd::store_row_f16_t<V256>(x, dst, type, n)) scalar::store_row(x, dst, type, n);  // throws
}

}  // namespace paw::avx2
