// Activations and the in-place (decode) schedule of the AVX-512 quantized matmul: each row
// streamed from the weights against up to a few tokens; K-quant super-block kernels; rows of one
// chunk.
// Part of the AVX-512 quantized matmul (qmatmul_avx512.cpp explains the arithmetic and the
// schedules); included by that file only, in the order it lists, inside one translation unit
// so that every kernel still inlines into the driver exactly as before the split.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "ops/simd_matmul.hpp"
#include "paw/tensor/blocks.hpp"
#include "ops/parallel.hpp"
#include "ops/qmatmul_avx512_decode.hpp"

namespace paw::avx512 {
namespace {

using simd::ActLayout;
using simd::kPanelRows;

// ---- activations

void quantize_acts(const float* x, const ActLayout& L, int offset, uint8_t* dst) {
  auto* qs = reinterpret_cast<int8_t*>(dst + L.qs);
  auto* d = reinterpret_cast<float*>(dst + L.d);
  auto* corr = reinterpret_cast<int32_t*>(dst + L.corr);
  auto* fsum = reinterpret_cast<float*>(dst + L.fsum);
  const __m512 sign = _mm512_set1_ps(-0.0f);
  const int64_t per_group = L.group / 32;
  for (int64_t g = 0; g < L.n_blk; g += per_group) {
    __m512 mx = _mm512_setzero_ps();
    for (int64_t b = g; b < g + per_group; ++b) {
      mx = _mm512_max_ps(mx, _mm512_andnot_ps(sign, _mm512_loadu_ps(x + 32 * b)));
      mx = _mm512_max_ps(mx, _mm512_andnot_ps(sign, _mm512_loadu_ps(x + 32 * b + 16)));
    }
    const float amax = _mm512_reduce_max_ps(mx);
    const float dd = amax / 127.0f;
    const float id = dd != 0.0f ? 1.0f / dd : 0.0f;
    for (int64_t b = g; b < g + per_group; ++b) {
      const __m512 v0 = _mm512_loadu_ps(x + 32 * b), v1 = _mm512_loadu_ps(x + 32 * b + 16);
      const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, _mm512_set1_ps(id)));
      const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, _mm512_set1_ps(id)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + 32 * b), _mm512_cvtsepi32_epi8(q0));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + 32 * b + 16), _mm512_cvtsepi32_epi8(q1));
      const int32_t s0 = _mm512_reduce_add_epi32(q0), s1 = _mm512_reduce_add_epi32(q1);
      d[b] = dd;
      fsum[b] = dd * static_cast<float>(s0 + s1);
      if (L.sb == 32) {
        corr[b] = -offset * (s0 + s1);
      } else {
        corr[2 * b] = -offset * s0;
        corr[2 * b + 1] = -offset * s1;
      }
    }
  }
  std::memset(qs + L.n_in, 0, static_cast<size_t>(L.n_chunks * 64 - L.n_in));
  if (!L.lanes) return;
  auto* lcorr = reinterpret_cast<int32_t*>(dst + L.lcorr);
  auto* ldx = reinterpret_cast<float*>(dst + L.ldx);
  auto* lfsum = reinterpret_cast<float*>(dst + L.lfsum);
  std::memset(lcorr, 0, static_cast<size_t>(L.n_chunks) * 64);
  std::memset(ldx, 0, static_cast<size_t>(L.n_chunks) * 64);
  std::memset(lfsum, 0, static_cast<size_t>(L.n_chunks) * 64);
  for (int64_t b = 0; b < L.n_blk; ++b) {
    const int64_t lane = 8 * b;  // first lane of 32-block b (chunk b/2, half b%2)
    _mm256_storeu_ps(ldx + lane, _mm256_set1_ps(d[b]));
    lfsum[lane] = fsum[b];
    if (L.sb == 32) {
      lcorr[lane] = corr[b];
    } else {
      lcorr[lane] = corr[2 * b];
      lcorr[lane + 4] = corr[2 * b + 1];
    }
  }
}

// ---- in-place kernel: one row against NT tokens

struct Acts {
  const uint8_t* base;
  size_t stride;
  ActLayout L;
  const uint8_t* tok(int64_t t) const { return base + static_cast<size_t>(t) * stride; }
};

// Accumulates chunk c of the row (decoded as u, s, m) into f (and the min term into fm).
template <class D, int NT>
inline void direct_chunk(const uint8_t* const* tp, const ActLayout& L, int64_t c, __m512i u, __m512 s, __m512 m,
                         __m512* f, __m512* fm) {
  const size_t o = static_cast<size_t>(c) * 64;
  for (int t = 0; t < NT; ++t) {
    __m512i acc = D::kOffset ? _mm512_load_si512(tp[t] + L.lcorr + o) : _mm512_setzero_si512();
    acc = _mm512_dpbusd_epi32(acc, u, _mm512_load_si512(tp[t] + L.qs + o));
    const __m512 dx = _mm512_load_ps(reinterpret_cast<const float*>(tp[t] + L.ldx + o));
    f[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), _mm512_mul_ps(s, dx), f[t]);
    if constexpr (D::kMin)
      fm[t] = _mm512_fmadd_ps(m, _mm512_load_ps(reinterpret_cast<const float*>(tp[t] + L.lfsum + o)), fm[t]);
  }
}

// One row against NT tokens. Even and odd chunks accumulate into separate registers, and the
// min term into a third: a single chain of dependent FMAs (4 cycles each) would otherwise cap
// a core at one chunk per 4-8 cycles, below memory speed for the 4- and 5-bit types.
template <class D, int NT>
void direct_row_sums(const uint8_t* row, const Acts& a, int64_t t0, __m512* sums) {
  D dec(row, a.L.n_in);
  __m512 f0[NT], f1[NT], fm[NT];
  const uint8_t* tp[NT];
  for (int t = 0; t < NT; ++t) {
    f0[t] = f1[t] = fm[t] = _mm512_setzero_ps();
    tp[t] = a.tok(t0 + t);
  }
  const int64_t n = a.L.n_chunks;
  int64_t c = 0;
  for (; c + 2 <= n; c += 2) {
    __m512i u;
    __m512 s, m = _mm512_setzero_ps();
    dec.chunk(c, u, s, m);
    direct_chunk<D, NT>(tp, a.L, c, u, s, m, f0, fm);
    dec.chunk(c + 1, u, s, m);
    direct_chunk<D, NT>(tp, a.L, c + 1, u, s, m, f1, fm);
  }
  if (c < n) {
    __m512i u;
    __m512 s, m = _mm512_setzero_ps();
    dec.chunk(c, u, s, m);
    direct_chunk<D, NT>(tp, a.L, c, u, s, m, f0, fm);
  }
  for (int t = 0; t < NT; ++t) sums[t] = _mm512_add_ps(_mm512_add_ps(f0[t], f1[t]), fm[t]);
}

template <class D, int NT>
void direct_row(const uint8_t* row, const Acts& a, int64_t t0, float* out) {
  __m512 sums[NT];
  direct_row_sums<D, NT>(row, a, t0, sums);
  for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(sums[t]);
}

// ---- in-place kernels for K-quants, one super-block (256 values) at a time. The activation
// scale is constant over a super-block (act_group), so the sub-block scales are applied in
// integer arithmetic: vpmaddubsw multiplies levels (≤ 63) by activations in pairs (≤ 16002,
// no saturation), vpdpwssd multiplies each pair sum by its sub-block's scale and accumulates
// into int32 lanes; one conversion and FMA per super-block and token follow.

// vpermw indices: int16 element i of a chunk's pair sums (values 2i, 2i+1 of chunk j) takes
// scale 2j + i/16 (32-value sub-blocks) or 4j + i/8 (Q6_K's 16-value sub-blocks).
struct ScaleIndex {
  alignas(64) uint16_t v[4][32];
};
constexpr ScaleIndex make_scale_index(int sub) {
  ScaleIndex r{};
  for (int j = 0; j < 4; ++j)
    for (int i = 0; i < 32; ++i) r.v[j][i] = static_cast<uint16_t>(sub == 32 ? 2 * j + i / 16 : 4 * j + i / 8);
  return r;
}
constexpr ScaleIndex kScaleIdx32 = make_scale_index(32), kScaleIdx16 = make_scale_index(16);

inline __m512i scale_index(const ScaleIndex& s, int j) { return _mm512_load_si512(s.v[j]); }

// Q4_K (Q5 = false) and Q5_K: Σ = d·dx·Σ_j sc_j·Σ q·x  −  dmin·Σ_j m_j·(dx·Σx over sub-block j).
template <bool Q5, int NT>
void k45_row(const uint8_t* row, const Acts& a, int64_t t0, float* out) {
  const int64_t n_sb = a.L.n_in / 256;
  const size_t blk_bytes = Q5 ? sizeof(block_q5_K) : sizeof(block_q4_K);
  __m512 f[NT];
  __m256 fm[NT];
  const int8_t* xq[NT];
  const float* dx[NT];
  const float* fs[NT];
  for (int t = 0; t < NT; ++t) {
    f[t] = _mm512_setzero_ps();
    fm[t] = _mm256_setzero_ps();
    const uint8_t* p = a.tok(t0 + t);
    xq[t] = reinterpret_cast<const int8_t*>(p + a.L.qs);
    dx[t] = reinterpret_cast<const float*>(p + a.L.d);
    fs[t] = reinterpret_cast<const float*>(p + a.L.fsum);
  }
  for (int64_t sb = 0; sb < n_sb; ++sb) {
    const uint8_t* blk = row + static_cast<size_t>(sb) * blk_bytes;
    // block_q4_K and block_q5_K both start with d, dmin, scales[12]
    const auto* hdr = reinterpret_cast<const block_q4_K*>(blk);
    const __m128i smb = k_scale_min_bytes(hdr->scales);
    const __m512i sc16 = _mm512_castsi256_si512(_mm256_castsi128_si256(_mm_cvtepu8_epi16(smb)));
    const __m256 mins = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(smb, 8))),
                                      _mm256_set1_ps(-_cvtsh_ss(ld16(&hdr->dmin))));
    const float d = _cvtsh_ss(ld16(&hdr->d));
    __m512i i0[NT], i1[NT];
    for (int t = 0; t < NT; ++t) i0[t] = i1[t] = _mm512_setzero_si512();
    for (int j = 0; j < 4; ++j) {
      const __m512i u = Q5 ? q5k_levels(reinterpret_cast<const block_q5_K*>(blk), j)
                           : q4k_levels(reinterpret_cast<const block_q4_K*>(blk), j);
      const __m512i scl = _mm512_permutexvar_epi16(scale_index(kScaleIdx32, j), sc16);
      for (int t = 0; t < NT; ++t) {
        const __m512i pr = _mm512_maddubs_epi16(u, _mm512_load_si512(xq[t] + 256 * sb + 64 * j));
        if (j & 1)
          i1[t] = _mm512_dpwssd_epi32(i1[t], pr, scl);
        else
          i0[t] = _mm512_dpwssd_epi32(i0[t], pr, scl);
      }
    }
    for (int t = 0; t < NT; ++t) {
      f[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(i0[t], i1[t])), _mm512_set1_ps(d * dx[t][8 * sb]), f[t]);
      fm[t] = _mm256_fmadd_ps(mins, _mm256_loadu_ps(fs[t] + 8 * sb), fm[t]);
    }
  }
  for (int t = 0; t < NT; ++t) {
    const __m256 h = _mm256_add_ps(fm[t], _mm256_add_ps(_mm512_castps512_ps256(f[t]), _mm512_extractf32x8_ps(f[t], 1)));
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    out[t] = _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
  }
}

// Q6_K: Σ = d·dx·Σ_j sc_j·(Σ q·x − 32·Σx over 16-value sub-block j); the −32·Σx terms come
// from the activations' corr array and are scaled by sc_j with one vpmulld per super-block.
template <int NT>
void k6_row(const uint8_t* row, const Acts& a, int64_t t0, float* out) {
  const int64_t n_sb = a.L.n_in / 256;
  __m512 f[NT];
  const int8_t* xq[NT];
  const float* dx[NT];
  const int32_t* corr[NT];
  for (int t = 0; t < NT; ++t) {
    f[t] = _mm512_setzero_ps();
    const uint8_t* p = a.tok(t0 + t);
    xq[t] = reinterpret_cast<const int8_t*>(p + a.L.qs);
    dx[t] = reinterpret_cast<const float*>(p + a.L.d);
    corr[t] = reinterpret_cast<const int32_t*>(p + a.L.corr);
  }
  const auto* blocks = reinterpret_cast<const block_q6_K*>(row);
  for (int64_t sb = 0; sb < n_sb; ++sb) {
    const block_q6_K* p = blocks + sb;
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p->scales));
    const __m512i scw = _mm512_castsi256_si512(_mm256_cvtepi8_epi16(raw));
    const __m512i sc32 = _mm512_cvtepi8_epi32(raw);
    const float d = _cvtsh_ss(ld16(&p->d));
    __m512i i0[NT], i1[NT];
    for (int t = 0; t < NT; ++t) {
      i0[t] = _mm512_mullo_epi32(_mm512_load_si512(corr[t] + 16 * sb), sc32);
      i1[t] = _mm512_setzero_si512();
    }
    for (int j = 0; j < 4; ++j) {
      const __m512i u = q6k_levels(p, j);
      const __m512i scl = _mm512_permutexvar_epi16(scale_index(kScaleIdx16, j), scw);
      for (int t = 0; t < NT; ++t) {
        const __m512i pr = _mm512_maddubs_epi16(u, _mm512_load_si512(xq[t] + 256 * sb + 64 * j));
        if (j & 1)
          i1[t] = _mm512_dpwssd_epi32(i1[t], pr, scl);
        else
          i0[t] = _mm512_dpwssd_epi32(i0[t], pr, scl);
      }
    }
    for (int t = 0; t < NT; ++t)
      f[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(i0[t], i1[t])), _mm512_set1_ps(d * dx[t][8 * sb]), f[t]);
  }
  for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(f[t]);
}

template <class D, int NT>
void row_kernel(const uint8_t* row, const Acts& a, int64_t t0, float* out) {
  if constexpr (D::kKind == 4)
    k45_row<false, NT>(row, a, t0, out);
  else if constexpr (D::kKind == 5)
    k45_row<true, NT>(row, a, t0, out);
  else if constexpr (D::kKind == 6)
    k6_row<NT>(row, a, t0, out);
  else
    direct_row<D, NT>(row, a, t0, out);
}

// Lane i of the result = the sum of the 16 lanes of v[i].
inline __m512 reduce16(const __m512* v) {
  __m512 w[8];  // w[k]: 128-bit lanes 0-1 hold partial sums of row 2k, lanes 2-3 of row 2k+1
  for (int k = 0; k < 8; ++k)
    w[k] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * k], v[2 * k + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_f32x4(v[2 * k], v[2 * k + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  __m512 x[4];  // x[j]: 128-bit lane L holds four partial sums of row 4j + L
  for (int j = 0; j < 4; ++j)
    x[j] = _mm512_add_ps(_mm512_shuffle_f32x4(w[2 * j], w[2 * j + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(w[2 * j], w[2 * j + 1], _MM_SHUFFLE(3, 1, 3, 1)));
  // Within each 128-bit lane L: [x0 x1 x2 x3] partial quads -> [row L, row 4+L, row 8+L, row 12+L].
  const __m512 y01 = _mm512_add_ps(_mm512_unpacklo_ps(x[0], x[1]), _mm512_unpackhi_ps(x[0], x[1]));
  const __m512 y23 = _mm512_add_ps(_mm512_unpacklo_ps(x[2], x[3]), _mm512_unpackhi_ps(x[2], x[3]));
  const __m512 sums = _mm512_add_ps(
      _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(y01), _mm512_castps_pd(y23))),
      _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(y01), _mm512_castps_pd(y23))));
  // Element 4L + j holds row 4j + L: gather row i from element 4·(i % 4) + i / 4.
  const __m512i order = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
  return _mm512_permutexvar_ps(order, sums);
}

template <class D>
void direct_rows(const MatrixView& w, size_t stride, int64_t r0, int64_t r1, const Acts& a, int64_t n_tokens,
                 float* y, bool accumulate) {
  const int64_t n_out = w.rows;
  float v[4];
  const int64_t ahead = simd::prefetch_rows(stride);
  simd::prefetch_rows_start(w.data, stride, r0, r1, ahead);
  if constexpr (D::kKind == 0) {
    // Decode: the vector sums of 16 rows reduced together (reduce16) and stored at once. One
    // horizontal sum per row ended each row with a chain of dependent shuffles and a scalar
    // store: 1-thread Qwen3-0.6B-shape Q4_0 decode 77-79 -> 83-85 t/s (Q8_0, slower per
    // byte, unchanged; 2 threads are bandwidth-bound).
    if (n_tokens == 1)
      for (; r0 + 16 <= r1; r0 += 16) {
        __m512 sums[16];
        for (int i = 0; i < 16; ++i) {
          const uint8_t* row = w.data + static_cast<size_t>(r0 + i) * stride;
          if (r0 + i + ahead < r1) simd::prefetch_row(row + static_cast<size_t>(ahead) * stride, stride);
          direct_row_sums<D, 1>(row, a, 0, &sums[i]);
        }
        const __m512 v16 = reduce16(sums);
        _mm512_storeu_ps(y + r0, accumulate ? _mm512_add_ps(_mm512_loadu_ps(y + r0), v16) : v16);
      }
  }
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = w.data + static_cast<size_t>(r) * stride;
    if (r + ahead < r1) simd::prefetch_row(row + static_cast<size_t>(ahead) * stride, stride);
    for (int64_t t0 = 0; t0 < n_tokens; t0 += 3) {
      const int64_t nt = simd::imin(3, n_tokens - t0);
      if (nt == 3)
        row_kernel<D, 3>(row, a, t0, v);
      else if (nt == 2)
        row_kernel<D, 2>(row, a, t0, v);
      else
        row_kernel<D, 1>(row, a, t0, v);
      for (int64_t t = 0; t < nt; ++t) {
        float& dst = y[(t0 + t) * n_out + r];
        dst = accumulate ? dst + v[t] : v[t];
      }
    }
  }
}

// ---- rows of one chunk (n_in <= 64: LoRA B matrices [n_out, rank]). A row's dot product is
// then a handful of instructions and the per-row horizontal sum (_mm512_reduce_add_ps) would
// cost as much again, so 16 rows are summed together by a transpose-and-add tree.

// Rows [r0, r1) of a legacy-block weight with a single 64-value chunk, 16 rows at a time; the
// remaining rows go through direct_rows.
template <class D>
void short_rows(const MatrixView& w, size_t stride, int64_t r0, int64_t r1, const Acts& a, int64_t n_tokens, float* y,
                bool accumulate) {
  static_assert(D::kKind == 0, "one-chunk rows are legacy 32-blocks");
  const int64_t n_out = w.rows;
  // Blocks of 16 rows are a few hundred bytes: request the whole run's start, then ~4 KiB ahead.
  const int64_t ahead = simd::prefetch_rows(stride);
  simd::prefetch_rows_start(w.data, stride, r0, r1, ahead);
  int64_t r = r0;
  for (; r + 16 <= r1; r += 16) {
    if (r + 16 + ahead <= r1) simd::prefetch_row(w.data + static_cast<size_t>(r + ahead) * stride, 16 * stride);
    __m512i u[16];
    __m512 s[16], m[16];
    for (int i = 0; i < 16; ++i) {
      D dec(w.data + static_cast<size_t>(r + i) * stride, a.L.n_in);
      m[i] = _mm512_setzero_ps();
      dec.chunk(0, u[i], s[i], m[i]);
    }
    for (int64_t t = 0; t < n_tokens; ++t) {
      const uint8_t* tp[1] = {a.tok(t)};
      __m512 f[16];
      for (int i = 0; i < 16; ++i) {
        __m512 f0 = _mm512_setzero_ps(), fm = _mm512_setzero_ps();
        direct_chunk<D, 1>(tp, a.L, 0, u[i], s[i], m[i], &f0, &fm);
        f[i] = _mm512_add_ps(f0, fm);
      }
      float* dst = y + t * n_out + r;
      const __m512 sums = reduce16(f);
      _mm512_storeu_ps(dst, accumulate ? _mm512_add_ps(_mm512_loadu_ps(dst), sums) : sums);
    }
  }
  if (r < r1) direct_rows<D>(w, stride, r, r1, a, n_tokens, y, accumulate);
}

}  // namespace
}  // namespace paw::avx512
