#pragma once
// Private: causal GQA attention over an F16 or F32 KV cache, written once over a vector type
// V (simd_vec.hpp) and instantiated per ISA.
//
// Work item = (query token, KV head, up to 4 of the query heads that share that KV head).
// Each cached key and value row is loaded and widened from F16 once per item and used by all
// of the item's query heads — Qwen3-0.6B has 2 query heads per KV head, so GQA halves the
// conversions. Keys are taken in chunks of 128 with an online softmax, so the scores fit on
// the stack and the kernel needs no scratch; scores are computed 4 keys at a time
// (independent FMA chains), and the weighted sum of values keeps up to 4 vectors per head in
// registers while it walks the value rows. Items are spread over threads.
#include <cmath>

#include "ops/parallel.hpp"
#include "ops/simd_matmul.hpp"
#include "ops/simd_vec.hpp"
#include "paw/ops/kernels.hpp"

namespace paw::simd {
namespace {

constexpr int kAttnMaxGroup = 4;    // query heads per work item
constexpr int64_t kAttnChunk = 128;  // keys per softmax chunk (scores live on the stack)

// Cache rows of one KV head are n_head_kv·head_dim values apart (2 KiB for Qwen3-0.6B), a
// stride the hardware prefetchers follow poorly at decode time, when every key is touched once:
// fetch the head's slice of a row a few keys ahead explicitly.
constexpr int64_t kPrefetchKeys = 16;
inline void prefetch_slice(const uint8_t* p, size_t bytes) {
  for (size_t o = 0; o < bytes; o += 64) _mm_prefetch(reinterpret_cast<const char*>(p + o), _MM_HINT_T0);
}

template <class V, bool F16>
typename V::F load_row(const uint8_t* row, int64_t i) {
  if constexpr (F16)
    return V::load_f16(reinterpret_cast<const uint16_t*>(row) + i);
  else
    return V::load(reinterpret_cast<const float*>(row) + i);
}
template <class V, bool F16>
typename V::F load_row_n(const uint8_t* row, int64_t i, int64_t n) {
  if constexpr (F16)
    return V::load_f16_n(reinterpret_cast<const uint16_t*>(row) + i, n);
  else
    return V::load_n(reinterpret_cast<const float*>(row) + i, n);
}

// Scores of G query heads against keys [j0, j0 + NK).
// Scores of G query heads against keys [j0, j0 + NK), written to sc[g][j0 - base + j].
template <class V, bool F16, int G, int NK>
void key_scores(const float* const* q, const uint8_t* k0, size_t k_row, int64_t hk, float scale, float* const* sc,
                int64_t j0, int64_t base) {
  using F = typename V::F;
  F acc[G][NK];
  for (int g = 0; g < G; ++g)
    for (int j = 0; j < NK; ++j) acc[g][j] = V::zero();
  int64_t d = 0;
  for (; d + V::N <= hk; d += V::N) {
    F qv[G];
    for (int g = 0; g < G; ++g) qv[g] = V::load(q[g] + d);
    for (int j = 0; j < NK; ++j) {
      const F kv = load_row<V, F16>(k0 + static_cast<size_t>(j0 + j) * k_row, d);
      for (int g = 0; g < G; ++g) acc[g][j] = V::fmadd(qv[g], kv, acc[g][j]);
    }
  }
  if (d < hk) {
    const int64_t n = hk - d;
    F qv[G];
    for (int g = 0; g < G; ++g) qv[g] = V::load_n(q[g] + d, n);
    for (int j = 0; j < NK; ++j) {
      const F kv = load_row_n<V, F16>(k0 + static_cast<size_t>(j0 + j) * k_row, d, n);
      for (int g = 0; g < G; ++g) acc[g][j] = V::fmadd(qv[g], kv, acc[g][j]);
    }
  }
  for (int g = 0; g < G; ++g)
    for (int j = 0; j < NK; ++j) sc[g][j0 - base + j] = V::hsum(acc[g][j]) * scale;
}

// Online softmax over chunks of keys (as in FlashAttention): each chunk's scores become
// p = exp(s − m) with m the running max; the output accumulated so far, and the running sum,
// are rescaled by exp(m_old − m_new) whenever the max grows. The output rows of a.out hold
// the unnormalised sums until the last chunk has been added, then are divided by the sum.

// p = exp(s − m) in place for n scores; returns Σ p.
template <class V>
float exp_shift(float* s, int64_t n, float m) {
  using F = typename V::F;
  const F mv = V::set1(m);
  F sum = V::zero();
  int64_t i = 0;
  for (; i + V::N <= n; i += V::N) {
    const F e = vexp<V>(V::sub(V::load(s + i), mv));
    V::store(s + i, e);
    sum = V::add(sum, e);
  }
  if (i < n) {
    const F e = V::keep_n(vexp<V>(V::sub(V::load_n(s + i, n - i), mv)), n - i);
    V::store_n(s + i, e, n - i);
    sum = V::add(sum, e);
  }
  return V::hsum(sum);
}

template <class V>
float max_of(const float* s, int64_t n) {
  typename V::F m = V::set1(s[0]);
  int64_t i = 0;
  for (; i + V::N <= n; i += V::N) m = V::max(m, V::load(s + i));
  float mx = V::hmax(m);
  for (; i < n; ++i) mx = s[i] > mx ? s[i] : mx;
  return mx;
}

// out_g = keep_g · out_g + Σ_j p_g[j] · v_j over n value rows. keep_g = 0 (first chunk, or an
// old max so far below the new one that its terms vanish) starts from zero without reading out_g.
template <class V, bool F16, int G>
void add_values(const uint8_t* v0, size_t v_row, int64_t hv, int64_t n, const float* const* p, const float* keep,
                float* const* out) {
  using F = typename V::F;
  const size_t slice = static_cast<size_t>(hv) * (F16 ? 2 : 4);
  int64_t d = 0;
  for (; d + 4 * V::N <= hv; d += 4 * V::N) {
    F o[G][4];
    for (int g = 0; g < G; ++g)
      for (int c = 0; c < 4; ++c)
        o[g][c] = keep[g] == 0.0f ? V::zero() : V::mul(V::load(out[g] + d + c * V::N), V::set1(keep[g]));
    for (int64_t j = 0; j < n; ++j) {
      const uint8_t* vr = v0 + static_cast<size_t>(j) * v_row;
      if (d == 0 && j + kPrefetchKeys < n) prefetch_slice(vr + kPrefetchKeys * v_row, slice);
      F vv[4];
      for (int c = 0; c < 4; ++c) vv[c] = load_row<V, F16>(vr, d + c * V::N);
      for (int g = 0; g < G; ++g) {
        const F pj = V::set1(p[g][j]);
        for (int c = 0; c < 4; ++c) o[g][c] = V::fmadd(pj, vv[c], o[g][c]);
      }
    }
    for (int g = 0; g < G; ++g)
      for (int c = 0; c < 4; ++c) V::store(out[g] + d + c * V::N, o[g][c]);
  }
  for (; d < hv; d += V::N) {
    const int64_t k = hv - d < V::N ? hv - d : V::N;
    F o[G];
    for (int g = 0; g < G; ++g) o[g] = keep[g] == 0.0f ? V::zero() : V::mul(V::load_n(out[g] + d, k), V::set1(keep[g]));
    for (int64_t j = 0; j < n; ++j) {
      const F vv = load_row_n<V, F16>(v0 + static_cast<size_t>(j) * v_row, d, k);
      for (int g = 0; g < G; ++g) o[g] = V::fmadd(V::set1(p[g][j]), vv, o[g]);
    }
    for (int g = 0; g < G; ++g) V::store_n(out[g] + d, o[g], k);
  }
}

template <class V, bool F16, int G>
void attend_item(const AttentionArgs& a, int64_t t, int64_t kvh, int64_t h0) {
  const size_t elem = F16 ? 2 : 4;
  const size_t k_row = static_cast<size_t>(a.n_head_kv * a.head_dim_k) * elem;
  const size_t v_row = static_cast<size_t>(a.n_head_kv * a.head_dim_v) * elem;
  const uint8_t* k0 = static_cast<const uint8_t*>(a.k) + static_cast<size_t>(kvh * a.head_dim_k) * elem;
  const uint8_t* v0 = static_cast<const uint8_t*>(a.v) + static_cast<size_t>(kvh * a.head_dim_v) * elem;
  const int64_t n_vis = a.pos0 + t + 1;
  alignas(64) float sbuf[G][kAttnChunk];
  const float* q[G];
  float* sc[G];
  float* out[G];
  float run_max[G], run_sum[G], keep[G];
  for (int g = 0; g < G; ++g) {
    q[g] = a.q + (t * a.n_head + h0 + g) * a.head_dim_k;
    sc[g] = sbuf[g];
    out[g] = a.out + (t * a.n_head + h0 + g) * a.head_dim_v;
  }
  for (int64_t j0 = 0; j0 < n_vis; j0 += kAttnChunk) {
    const int64_t n = imin(kAttnChunk, n_vis - j0);
    int64_t j = j0;
    const size_t k_slice = static_cast<size_t>(a.head_dim_k) * elem;
    for (; j + 4 <= j0 + n; j += 4) {
      for (int64_t p = j + kPrefetchKeys; p < j + kPrefetchKeys + 4 && p < n_vis; ++p)
        prefetch_slice(k0 + static_cast<size_t>(p) * k_row, k_slice);
      key_scores<V, F16, G, 4>(q, k0, k_row, a.head_dim_k, a.scale, sc, j, j0);
    }
    for (; j < j0 + n; ++j) key_scores<V, F16, G, 1>(q, k0, k_row, a.head_dim_k, a.scale, sc, j, j0);
    for (int g = 0; g < G; ++g) {
      const float cm = max_of<V>(sc[g], n);
      if (j0 == 0) {
        run_max[g] = cm;
        run_sum[g] = exp_shift<V>(sc[g], n, cm);
        keep[g] = 0.0f;
      } else {
        const float m = cm > run_max[g] ? cm : run_max[g];
        keep[g] = std::exp(run_max[g] - m);
        run_max[g] = m;
        run_sum[g] = run_sum[g] * keep[g] + exp_shift<V>(sc[g], n, m);
      }
    }
    add_values<V, F16, G>(v0 + static_cast<size_t>(j0) * v_row, v_row, a.head_dim_v, n, sc, keep, out);
  }
  for (int g = 0; g < G; ++g) {
    const typename V::F inv = V::set1(1.0f / run_sum[g]);
    float* o = out[g];
    int64_t d = 0;
    for (; d + V::N <= a.head_dim_v; d += V::N) V::store(o + d, V::mul(V::load(o + d), inv));
    if (d < a.head_dim_v) V::store_n(o + d, V::mul(V::load_n(o + d, a.head_dim_v - d), inv), a.head_dim_v - d);
  }
}

template <class V, bool F16>
void attention_t(const AttentionArgs& a, const OpContext& ctx) {
  const int nt = ctx.n_threads > 0 ? ctx.n_threads : 1;
  const int64_t group = a.n_head / a.n_head_kv;
  const int64_t n_sub = (group + kAttnMaxGroup - 1) / kAttnMaxGroup;  // items per (token, KV head)
  const int64_t n_items = a.n_tokens * a.n_head_kv * n_sub;
  const double work = static_cast<double>(a.n_tokens) * static_cast<double>(a.n_head) *
                      static_cast<double>(a.pos0 + (a.n_tokens + 1) / 2) *
                      static_cast<double>(a.head_dim_k + a.head_dim_v);
  const bool par = nt > 1 && n_items > 1 && work >= static_cast<double>(kParallelMinMacs);
  ops_detail::parallel_for(par ? nt : 1, n_items, [&](int64_t it, int) {
    const int64_t sub = it % n_sub, kvh = (it / n_sub) % a.n_head_kv, t = it / (n_sub * a.n_head_kv);
    const int64_t h0 = kvh * group + sub * kAttnMaxGroup;
    switch (imin(kAttnMaxGroup, group - sub * kAttnMaxGroup)) {
      case 4: attend_item<V, F16, 4>(a, t, kvh, h0); break;
      case 3: attend_item<V, F16, 3>(a, t, kvh, h0); break;
      case 2: attend_item<V, F16, 2>(a, t, kvh, h0); break;
      default: attend_item<V, F16, 1>(a, t, kvh, h0); break;
    }
  });
}

}  // namespace
}  // namespace paw::simd
