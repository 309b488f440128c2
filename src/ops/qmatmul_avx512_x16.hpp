// The interleaved Q4_0_X16 / Q8_0_X16 kernel of the AVX-512 quantized matmul (16 rows per group,
// its own kernel for every batch size).
// Part of the AVX-512 quantized matmul (qmatmul_avx512.cpp explains the arithmetic and the
// schedules); included by that file only, in the order it lists, inside one translation unit
// so that every kernel still inlines into the driver exactly as before the split.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "ops/simd_matmul.hpp"
#include "paw/tensor/blocks.hpp"
#include "ops/qmatmul_avx512_panels.hpp"

namespace paw::avx512 {
namespace {

using simd::ActLayout;
using simd::kPanelRows;

// ---- Q4_0_X16 / Q8_0_X16: 16 interleaved rows (layouts in paw/tensor/interleave.hpp). Per
// 32-value block the group's 16 scales are one 256-bit load and its levels 8 vectors (Levels:
// Q4_0 four 512-bit loads split by and/shift, Q8_0 eight loads), vector k the levels of values
// 4k .. 4k+3 of all 16 rows, the operand of one vpdpbusd against 4 broadcast activation
// bytes. Same bytes as the stored type, no decoding permutes, no horizontal sums: 16 outputs
// per store.

// The ISA's part of simd::interleaved_rows.
template <class Levels>
struct X16Kernel {
  static constexpr size_t kBlockBytes = Levels::kBlockBytes;
  // Group `group` (16 rows from r0, nr of them real) against tokens [t0, t0 + NT).
  template <int NT>
  static void tokens(const uint8_t* group, const Acts& a, int64_t t0, float* y, int64_t n_out, int64_t r0, int64_t nr,
                     bool accumulate) {
    const int8_t* qs[NT];
    const float* dx[NT];
    const int32_t* corr[NT];
    __m512 f[NT];
    for (int t = 0; t < NT; ++t) {
      const uint8_t* p = a.tok(t0 + t);
      qs[t] = reinterpret_cast<const int8_t*>(p + a.L.qs);
      dx[t] = reinterpret_cast<const float*>(p + a.L.d);
      corr[t] = reinterpret_cast<const int32_t*>(p + a.L.corr);
      f[t] = _mm512_setzero_ps();
    }
    for (int64_t b = 0; b < a.L.n_blk; ++b) {
      const uint8_t* p = group + static_cast<size_t>(b) * kBlockBytes;
      // the group's bytes a few KiB ahead (a hint; past the matrix it is dropped)
      simd::prefetch_row(p + simd::kInterleavedPrefetchBytes, kBlockBytes);
      const __m512 sc = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
      __m512i w[8];
      Levels::load(p, w);
      for (int t = 0; t < NT; ++t) {
        const int8_t* xq = qs[t] + 32 * b;
        // two chains of four: a single chain of eight dependent vpdpbusd would be latency-bound
        __m512i acc0 = _mm512_set1_epi32(Levels::corr(corr[t][b])), acc1 = _mm512_setzero_si512();
        for (int k = 0; k < 8; k += 2) {
          acc0 = _mm512_dpbusd_epi32(acc0, w[k], _mm512_set1_epi32(static_cast<int>(ld32(xq + 4 * k))));
          acc1 = _mm512_dpbusd_epi32(acc1, w[k + 1], _mm512_set1_epi32(static_cast<int>(ld32(xq + 4 * k + 4))));
        }
        const __m512 dot = _mm512_cvtepi32_ps(_mm512_add_epi32(acc0, acc1));
        f[t] = _mm512_fmadd_ps(dot, _mm512_mul_ps(sc, _mm512_set1_ps(dx[t][b])), f[t]);
      }
    }
    for (int t = 0; t < NT; ++t) store_outputs(y + (t0 + t) * n_out + r0, f[t], nr, accumulate);
  }
};

}  // namespace
}  // namespace paw::avx512
