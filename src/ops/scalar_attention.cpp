// Scalar causal GQA attention over an F16 or F32 KV cache. One (token, head) pair per
// iteration: scores against every visible cached key, softmax, weighted sum of values.
#include <omp.h>

#include <cstring>

#include "ops/scalar.hpp"
#include "paw/util/error.hpp"

namespace paw::scalar {
namespace {

// q · k for one cached key row (F16 keys go through the exact lookup table).
float dot_key(const float* q, const void* k_row, DType type, int64_t n, const float* lut) {
  if (type == DType::F32) return dot_f32(q, static_cast<const float*>(k_row), n);
  const auto* k = static_cast<const uint16_t*>(k_row);
  float acc = 0.0f;
  for (int64_t i = 0; i < n; ++i) acc += q[i] * lut[k[i]];
  return acc;
}

void add_value(float* out, float p, const void* v_row, DType type, int64_t n, const float* lut) {
  if (type == DType::F32) {
    const auto* v = static_cast<const float*>(v_row);
    for (int64_t i = 0; i < n; ++i) out[i] += p * v[i];
  } else {
    const auto* v = static_cast<const uint16_t*>(v_row);
    for (int64_t i = 0; i < n; ++i) out[i] += p * lut[v[i]];
  }
}

}  // namespace

size_t attention_scratch_bytes(int64_t n_kv, int64_t /*head_dim_v*/, int n_threads) {
  return ops_detail::align64(static_cast<size_t>(n_kv) * sizeof(float)) * static_cast<size_t>(n_threads);
}

void attention(const AttentionArgs& a, const OpContext& ctx) {
  if (a.kv_type != DType::F32 && a.kv_type != DType::F16)
    throw Error("attention: KV cache type must be F16 or F32", "ops::attention");
  if (a.n_head_kv <= 0 || a.n_head % a.n_head_kv != 0)
    throw Error("attention: n_head must be a multiple of n_head_kv", "ops::attention");
  const int nt = ctx.n_threads > 0 ? ctx.n_threads : 1;
  const int64_t n_kv = a.pos0 + a.n_tokens;
  const size_t per_thread = ops_detail::align64(static_cast<size_t>(n_kv) * sizeof(float));
  ops_detail::check_scratch(ctx, per_thread * static_cast<size_t>(nt), "attention");

  const size_t elem = a.kv_type == DType::F32 ? 4 : 2;
  const size_t k_row = static_cast<size_t>(a.n_head_kv * a.head_dim_k) * elem;
  const size_t v_row = static_cast<size_t>(a.n_head_kv * a.head_dim_v) * elem;
  const int64_t group = a.n_head / a.n_head_kv;
  const float* lut = ops_detail::f16_table();
  const auto* kbase = static_cast<const uint8_t*>(a.k);
  const auto* vbase = static_cast<const uint8_t*>(a.v);
  const int64_t n_pairs = a.n_tokens * a.n_head;

#pragma omp parallel num_threads(nt) if (nt > 1 && n_pairs > 1)
  {
    float* scores = reinterpret_cast<float*>(ctx.scratch + per_thread * static_cast<size_t>(omp_get_thread_num()));
#pragma omp for schedule(static)
    for (int64_t pair = 0; pair < n_pairs; ++pair) {
      const int64_t t = pair / a.n_head, h = pair % a.n_head;
      const int64_t kvh = h / group;
      const int64_t n_vis = a.pos0 + t + 1;  // causal: keys at positions 0..pos0+t
      const float* q = a.q + (t * a.n_head + h) * a.head_dim_k;
      const size_t k_off = static_cast<size_t>(kvh * a.head_dim_k) * elem;
      const size_t v_off = static_cast<size_t>(kvh * a.head_dim_v) * elem;
      for (int64_t j = 0; j < n_vis; ++j)
        scores[j] = a.scale * dot_key(q, kbase + static_cast<size_t>(j) * k_row + k_off, a.kv_type, a.head_dim_k, lut);
      softmax(scores, n_vis);
      float* out = a.out + (t * a.n_head + h) * a.head_dim_v;
      std::memset(out, 0, static_cast<size_t>(a.head_dim_v) * sizeof(float));
      for (int64_t j = 0; j < n_vis; ++j)
        add_value(out, scores[j], vbase + static_cast<size_t>(j) * v_row + v_off, a.kv_type, a.head_dim_v, lut);
    }
  }
}

}  // namespace paw::scalar
