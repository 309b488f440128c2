// AVX2 attention: the shared template of simd_attention.hpp on 8-float vectors.
#include "ops/avx2_kernels.hpp"
#include "ops/scalar.hpp"
#include "ops/simd_attention.hpp"

namespace paw::avx2 {

size_t attention_scratch_bytes(int64_t /*n_kv*/, int64_t /*head_dim_v*/, int /*n_threads*/) {
  return 0;  // scores live on the stack (online softmax over chunks of keys)
}

void attention(const AttentionArgs& a, const OpContext& ctx) {
  const bool valid = (a.kv_type == DType::F16 || a.kv_type == DType::F32) && a.n_head_kv > 0 &&
                     a.n_head % a.n_head_kv == 0;
  if (!valid || a.n_tokens <= 0) {
    scalar::attention(a, ctx);  // the reference raises the error (or does nothing)
    return;
  }
  if (a.kv_type == DType::F16)
    simd::attention_t<simd::V256, true>(a, ctx);
  else
    simd::attention_t<simd::V256, false>(a, ctx);
}

}  // namespace paw::avx2
