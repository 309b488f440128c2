// The panel (prefill) schedule of the AVX-512 quantized matmul: 16 rows decoded once into a packed
// panel, then every token against it.
// Part of the AVX-512 quantized matmul (qmatmul_avx512.cpp explains the arithmetic and the
// schedules); included by that file only, in the order it lists, inside one translation unit
// so that every kernel still inlines into the driver exactly as before the split.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "ops/simd_matmul.hpp"
#include "paw/tensor/blocks.hpp"
#include "ops/qmatmul_avx512_in_place.hpp"

namespace paw::avx512 {
namespace {

using simd::ActLayout;
using simd::kPanelRows;

// ---- panels

// The first nr (≤ 16) lanes of v to dst (added to what is there when accumulating).
inline void store_outputs(float* dst, __m512 v, int64_t nr, bool accumulate) {
  const __mmask16 mask = static_cast<__mmask16>((1u << nr) - 1u);
  if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, dst));
  _mm512_mask_storeu_ps(dst, mask, v);
}

// Decodes rows [r0, r0 + nr) (nr ≤ 16) into the packed panel layout of simd_matmul.hpp.
// Pass 1 decodes each row chunk by chunk into `stage`, placing 16-byte quarter g of row
// i = 4·L + r at [chunk][g][r][L]; pass 2 then finds, for each chunk and quarter, four
// vectors whose 128-bit lanes hold one quarter of rows {r, r+4, r+8, r+12}, and a 4×4
// transpose of 32-bit words inside every lane yields the interleaved rows directly.
template <class D>
void pack_panel(const MatrixView& w, size_t stride, int64_t r0, int64_t nr, uint8_t* panel, uint8_t* stage) {
  constexpr int sb = D::kSb;
  const int64_t n_in = w.cols, n_chunks = (n_in + 63) / 64, n_sub = n_in / sb;
  const size_t bb = simd::panel_block_bytes(sb, D::kMin);
  alignas(64) float sl[16], ml[16];
  for (int64_t i = 0; i < kPanelRows; ++i) {
    const int64_t r = i & 3, lane = i >> 2;
    uint8_t* st = stage + r * 64 + lane * 16;
    if (i >= nr) {
      for (int64_t c = 0; c < n_chunks; ++c)
        for (int g = 0; g < 4; ++g) std::memset(st + c * 1024 + g * 256, 0, 16);
      for (int64_t b = 0; b < n_sub; ++b) {
        auto* f = reinterpret_cast<float*>(panel + b * bb + sb * kPanelRows);
        f[i] = 0.0f;
        if (D::kMin) f[16 + i] = 0.0f;
      }
      continue;
    }
    D dec(w.data + static_cast<size_t>(r0 + i) * stride, n_in);
    for (int64_t c = 0; c < n_chunks; ++c) {
      __m512i u;
      __m512 s, m = _mm512_setzero_ps();
      dec.chunk(c, u, s, m);
      uint8_t* sc = st + c * 1024;
      _mm_store_si128(reinterpret_cast<__m128i*>(sc), _mm512_castsi512_si128(u));
      _mm_store_si128(reinterpret_cast<__m128i*>(sc + 256), _mm512_extracti32x4_epi32(u, 1));
      _mm_store_si128(reinterpret_cast<__m128i*>(sc + 512), _mm512_extracti32x4_epi32(u, 2));
      _mm_store_si128(reinterpret_cast<__m128i*>(sc + 768), _mm512_extracti32x4_epi32(u, 3));
      _mm512_store_ps(sl, s);
      if (D::kMin) _mm512_store_ps(ml, m);
      for (int j = 0; j < 64 / sb; ++j) {
        const int64_t b = c * (64 / sb) + j;
        if (b >= n_sub) break;
        auto* f = reinterpret_cast<float*>(panel + b * bb + sb * kPanelRows);
        f[i] = sl[j * sb / 4];
        if (D::kMin) f[16 + i] = ml[j * sb / 4];
      }
    }
  }
  for (int64_t c = 0; c < n_chunks; ++c)
    for (int g = 0; g < 4; ++g) {
      const uint8_t* sg = stage + c * 1024 + g * 256;
      const __m512i a0 = _mm512_load_si512(sg), a1 = _mm512_load_si512(sg + 64);
      const __m512i a2 = _mm512_load_si512(sg + 128), a3 = _mm512_load_si512(sg + 192);
      const __m512i t0 = _mm512_unpacklo_epi32(a0, a1), t1 = _mm512_unpackhi_epi32(a0, a1);
      const __m512i t2 = _mm512_unpacklo_epi32(a2, a3), t3 = _mm512_unpackhi_epi32(a2, a3);
      const __m512i o[4] = {_mm512_unpacklo_epi64(t0, t2), _mm512_unpackhi_epi64(t0, t2),
                            _mm512_unpacklo_epi64(t1, t3), _mm512_unpackhi_epi64(t1, t3)};
      for (int k = 0; k < 4; ++k) {
        const int64_t kk = 4 * g + k;  // 4-value group within the chunk
        const int64_t b = c * (64 / sb) + (4 * kk) / sb;
        if (b >= n_sub) break;
        _mm512_store_si512(panel + b * bb + (kk % (sb / 4)) * 64, o[k]);
      }
    }
}

// 16 panel rows against tokens [t0, t0 + NT): y[t, r0 .. r0 + nr).
template <int SB, bool MIN, int NT>
void panel_tokens(const uint8_t* panel, const Acts& a, int64_t t0, float* y, int64_t n_out, int64_t r0, int64_t nr,
                  bool accumulate) {
  constexpr int K4 = SB / 4;
  const size_t bb = simd::panel_block_bytes(SB, MIN);
  const int64_t n_sub = a.L.n_in / SB;
  const int8_t* qs[NT];
  const float* dx[NT];
  const int32_t* corr[NT];
  const float* fs[NT];
  for (int t = 0; t < NT; ++t) {
    const uint8_t* p = a.tok(t0 + t);
    qs[t] = reinterpret_cast<const int8_t*>(p + a.L.qs);
    dx[t] = reinterpret_cast<const float*>(p + a.L.d);
    corr[t] = reinterpret_cast<const int32_t*>(p + a.L.corr);
    fs[t] = reinterpret_cast<const float*>(p + a.L.fsum);
  }
  __m512 f[NT];
  for (int t = 0; t < NT; ++t) f[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < n_sub; ++b) {
    const uint8_t* pb = panel + b * bb;
    __m512i wv[K4];
    for (int k = 0; k < K4; ++k) wv[k] = _mm512_load_si512(pb + 64 * k);
    const __m512 sv = _mm512_load_ps(reinterpret_cast<const float*>(pb + SB * kPanelRows));
    __m512 mv = _mm512_setzero_ps();
    if constexpr (MIN) mv = _mm512_load_ps(reinterpret_cast<const float*>(pb + SB * kPanelRows + 64));
    const int64_t blk = b * SB / 32;
    for (int t = 0; t < NT; ++t) {
      const int8_t* xq = qs[t] + b * SB;
      __m512i acc = _mm512_set1_epi32(corr[t][b]);
      for (int k = 0; k < K4; ++k) acc = _mm512_dpbusd_epi32(acc, wv[k], _mm512_set1_epi32(static_cast<int>(ld32(xq + 4 * k))));
      f[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), _mm512_mul_ps(sv, _mm512_set1_ps(dx[t][blk])), f[t]);
      if constexpr (MIN) f[t] = _mm512_fmadd_ps(mv, _mm512_set1_ps(fs[t][b]), f[t]);
    }
  }
  for (int t = 0; t < NT; ++t) store_outputs(y + (t0 + t) * n_out + r0, f[t], nr, accumulate);
}

template <class D>
void panel_all_tokens(const uint8_t* panel, const Acts& a, int64_t n_tokens, float* y, int64_t n_out, int64_t r0,
                      int64_t nr, bool accumulate) {
  constexpr int SB = D::kSb;
  constexpr bool MIN = D::kMin;
  int64_t t = 0;
  for (; t + 8 <= n_tokens; t += 8) panel_tokens<SB, MIN, 8>(panel, a, t, y, n_out, r0, nr, accumulate);
  switch (n_tokens - t) {
    case 7: panel_tokens<SB, MIN, 7>(panel, a, t, y, n_out, r0, nr, accumulate); break;
    case 6: panel_tokens<SB, MIN, 6>(panel, a, t, y, n_out, r0, nr, accumulate); break;
    case 5: panel_tokens<SB, MIN, 5>(panel, a, t, y, n_out, r0, nr, accumulate); break;
    case 4: panel_tokens<SB, MIN, 4>(panel, a, t, y, n_out, r0, nr, accumulate); break;
    case 3: panel_tokens<SB, MIN, 3>(panel, a, t, y, n_out, r0, nr, accumulate); break;
    case 2: panel_tokens<SB, MIN, 2>(panel, a, t, y, n_out, r0, nr, accumulate); break;
    case 1: panel_tokens<SB, MIN, 1>(panel, a, t, y, n_out, r0, nr, accumulate); break;
    default: break;
  }
}

}  // namespace
}  // namespace paw::avx512
