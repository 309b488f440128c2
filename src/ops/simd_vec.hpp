#pragma once
// Private: a thin F32 vector type per ISA (V256 for AVX2+FMA+F16C, V512 for AVX-512), so the
// element-wise kernels and attention are written once (simd_elementwise.hpp,
// simd_attention.hpp) and compiled per ISA. Everything has internal linkage: each ISA file
// gets its own copy (see ops/simd.hpp). Include only from *_avx2.cpp / *_avx512.cpp files.
// GCC 12's AVX-512 intrinsic headers trip -W(maybe-)uninitialized on their own
// _mm512_undefined_* temporaries (the reductions); silence that before including them.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace paw::simd {
namespace {

// exp(x) for a vector, ≤ 2 ulp over the float range: x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split
// in two for an exact product), e^r by its Taylor series to r^7 (truncation < 6e-9
// relative), times 2^n built in the exponent bits. Inputs are clamped to [-87.3, 88] so 2^n
// stays a normal float; below −87.3 (and for −inf) the result is 0, above 88 it saturates
// at e^88 ≈ 1.7e38.
template <class V>
typename V::F vexp(typename V::F x) {
  using F = typename V::F;
  const F lo = V::set1(-87.3f);
  const F xc = V::min(V::max(x, lo), V::set1(88.0f));
  const F n = V::round(V::mul(xc, V::set1(1.44269504088896341f)));
  F r = V::fmadd(n, V::set1(-0.693359375f), xc);
  r = V::fmadd(n, V::set1(2.12194440e-4f), r);
  F p = V::set1(1.0f / 5040);
  p = V::fmadd(p, r, V::set1(1.0f / 720));
  p = V::fmadd(p, r, V::set1(1.0f / 120));
  p = V::fmadd(p, r, V::set1(1.0f / 24));
  p = V::fmadd(p, r, V::set1(1.0f / 6));
  p = V::fmadd(p, r, V::set1(0.5f));
  p = V::fmadd(p, r, V::set1(1.0f));
  p = V::fmadd(p, r, V::set1(1.0f));
  return V::zero_below(V::mul(p, V::pow2(n)), x, lo);
}

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
struct V256 {
  using F = __m256;
  static constexpr int N = 8;
  static F zero() { return _mm256_setzero_ps(); }
  static F set1(float v) { return _mm256_set1_ps(v); }
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  // First n (< N) lanes; the rest read as 0 / are not written.
  static F load_n(const float* p, int64_t n) {
    alignas(32) float b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(b, p, static_cast<size_t>(n) * 4);
    return _mm256_load_ps(b);
  }
  static void store_n(float* p, F v, int64_t n) {
    alignas(32) float b[8];
    _mm256_store_ps(b, v);
    std::memcpy(p, b, static_cast<size_t>(n) * 4);
  }
  static F keep_n(F v, int64_t n) {  // lanes ≥ n set to 0
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), idx)));
  }
  static F load_f16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static F load_f16_n(const uint16_t* p, int64_t n) {
    alignas(16) uint16_t b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(b, p, static_cast<size_t>(n) * 2);
    return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(b)));
  }
  static void store_f16(uint16_t* p, F v) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  static void store_f16_n(uint16_t* p, F v, int64_t n) {
    alignas(16) uint16_t b[8];
    _mm_store_si128(reinterpret_cast<__m128i*>(b), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
    std::memcpy(p, b, static_cast<size_t>(n) * 2);
  }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F swap_pairs(F a) { return _mm256_permute_ps(a, 0xB1); }  // lanes (1, 0, 3, 2, ...)
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F fmsub(F a, F b, F c) { return _mm256_fmsub_ps(a, b, c); }
  static F min(F a, F b) { return _mm256_min_ps(a, b); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
  static F round(F a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static F pow2(F n) {  // 2^n for integral n in [-126, 127]
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
  }
  static F zero_below(F v, F x, F lo) { return _mm256_and_ps(v, _mm256_cmp_ps(x, lo, _CMP_GE_OQ)); }
  static float hsum(F v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float hmax(F v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  // Σ v[i]² and Σ v[i] added to double accumulators (norms sum in double, like the scalar).
  static void acc_sq_d(F v, __m256d& acc) {
    const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    acc = _mm256_fmadd_pd(lo, lo, acc);
    acc = _mm256_fmadd_pd(hi, hi, acc);
  }
  static void acc_d(F v, __m256d& acc) {
    acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  }
  using D = __m256d;
  static D dzero() { return _mm256_setzero_pd(); }
  static double dsum(D v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
  }
};
#endif

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__)
struct V512 {
  using F = __m512;
  static constexpr int N = 16;
  static __mmask16 mask(int64_t n) { return static_cast<__mmask16>((1u << n) - 1u); }
  static F zero() { return _mm512_setzero_ps(); }
  static F set1(float v) { return _mm512_set1_ps(v); }
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static F load_n(const float* p, int64_t n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  static void store_n(float* p, F v, int64_t n) { _mm512_mask_storeu_ps(p, mask(n), v); }
  static F keep_n(F v, int64_t n) { return _mm512_maskz_mov_ps(mask(n), v); }
  static F load_f16(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static F load_f16_n(const uint16_t* p, int64_t n) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask(n), p)); }
  static void store_f16(uint16_t* p, F v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  static void store_f16_n(uint16_t* p, F v, int64_t n) {
    _mm256_mask_storeu_epi16(p, mask(n), _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F swap_pairs(F a) { return _mm512_permute_ps(a, 0xB1); }  // lanes (1, 0, 3, 2, ...)
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F fmsub(F a, F b, F c) { return _mm512_fmsub_ps(a, b, c); }
  static F min(F a, F b) { return _mm512_min_ps(a, b); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  static F round(F a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static F pow2(F n) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23));
  }
  static F zero_below(F v, F x, F lo) { return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, lo, _CMP_GE_OQ), v); }
  static float hsum(F v) { return _mm512_reduce_add_ps(v); }
  static float hmax(F v) { return _mm512_reduce_max_ps(v); }
  using D = __m512d;
  static D dzero() { return _mm512_setzero_pd(); }
  static void acc_sq_d(F v, D& acc) {
    const D lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v)), hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
    acc = _mm512_fmadd_pd(lo, lo, acc);
    acc = _mm512_fmadd_pd(hi, hi, acc);
  }
  static void acc_d(F v, D& acc) {
    acc = _mm512_add_pd(acc, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    acc = _mm512_add_pd(acc, _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)));
  }
  static double dsum(D v) { return _mm512_reduce_add_pd(v); }
};
#endif

}  // namespace
}  // namespace paw::simd
