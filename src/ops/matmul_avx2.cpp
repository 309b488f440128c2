// AVX2 matmul entry point, and the float-weight kernels (F32, F16, BF16): a register tile of
// 4 rows × up to 2 tokens (AVX2 has 16 vector registers), 8 values per step; each weight
// vector is loaded and widened once per tile. Activations stay F32; BF16 weights are widened
// exactly by a 16-bit shift.
#include <immintrin.h>

#include <cstring>

#include "ops/avx2_kernels.hpp"
#include "ops/parallel.hpp"
#include "ops/scalar.hpp"
#include "ops/simd_matmul.hpp"

namespace paw::avx2 {
namespace {

// 8 weights [k, k+8) of a row as floats; load_tail reads only the first n (< 8).
struct LdF32 {
  static __m256 load(const uint8_t* row, int64_t k) { return _mm256_loadu_ps(reinterpret_cast<const float*>(row + 4 * k)); }
  static __m256 load_tail(const uint8_t* row, int64_t k, int64_t n) {
    alignas(32) float b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(b, row + 4 * k, static_cast<size_t>(n) * 4);
    return _mm256_load_ps(b);
  }
};
struct LdF16 {
  static __m256 load(const uint8_t* row, int64_t k) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * k)));
  }
  static __m256 load_tail(const uint8_t* row, int64_t k, int64_t n) {
    alignas(16) uint16_t b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(b, row + 2 * k, static_cast<size_t>(n) * 2);
    return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(b)));
  }
};
struct LdBF16 {
  static __m256 widen(__m128i v) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(v), 16)); }
  static __m256 load(const uint8_t* row, int64_t k) {
    return widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * k)));
  }
  static __m256 load_tail(const uint8_t* row, int64_t k, int64_t n) {
    alignas(16) uint16_t b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(b, row + 2 * k, static_cast<size_t>(n) * 2);
    return widen(_mm_load_si128(reinterpret_cast<const __m128i*>(b)));
  }
};

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <class Ld, int R, int NT>
void float_tile(const uint8_t* w0, size_t stride, const float* x, int64_t n_in, float* out) {
  __m256 acc[R][NT];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < NT; ++t) acc[r][t] = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 8 <= n_in; k += 8) {
    __m256 wv[R];
    for (int r = 0; r < R; ++r) wv[r] = Ld::load(w0 + r * stride, k);
    for (int t = 0; t < NT; ++t) {
      const __m256 xv = _mm256_loadu_ps(x + t * n_in + k);
      for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
  if (k < n_in) {
    __m256 wv[R];
    for (int r = 0; r < R; ++r) wv[r] = Ld::load_tail(w0 + r * stride, k, n_in - k);
    for (int t = 0; t < NT; ++t) {
      const __m256 xv = LdF32::load_tail(reinterpret_cast<const uint8_t*>(x + t * n_in), k, n_in - k);
      for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < NT; ++t) out[r * NT + t] = hsum(acc[r][t]);
}

template <class Ld, int R>
void tile(const uint8_t* w0, size_t stride, const float* x, int64_t n_in, int NT, float* out) {
  if (NT == 2)
    float_tile<Ld, R, 2>(w0, stride, x, n_in, out);
  else
    float_tile<Ld, R, 1>(w0, stride, x, n_in, out);
}

template <class Ld>
void float_rows(const MatrixView& w, size_t stride, int64_t r0, int64_t r1, const float* x, int64_t n_tokens,
                float* y, bool accumulate) {
  const int64_t n_in = w.cols, n_out = w.rows;
  float v[8];
  for (int64_t r = r0; r < r1;) {
    const int R = r + 4 <= r1 ? 4 : 1;
    const uint8_t* w0 = w.data + static_cast<size_t>(r) * stride;
    for (int64_t t0 = 0; t0 < n_tokens; t0 += 2) {
      const int NT = static_cast<int>(simd::imin(2, n_tokens - t0));
      if (R == 4)
        tile<Ld, 4>(w0, stride, x + t0 * n_in, n_in, NT, v);
      else
        tile<Ld, 1>(w0, stride, x + t0 * n_in, n_in, NT, v);
      for (int i = 0; i < R; ++i)
        for (int t = 0; t < NT; ++t) {
          float& dst = y[(t0 + t) * n_out + r + i];
          dst = accumulate ? dst + v[i * NT + t] : v[i * NT + t];
        }
    }
    r += R;
  }
}

template <class Ld>
void float_matmul(const MatrixView& w, const float* x, float* y, int64_t n_tokens, bool accumulate, int nt) {
  const int64_t n_out = w.rows, n_in = w.cols;
  const size_t stride = simd::row_stride(w.type, n_in);
  const bool par = nt > 1 && n_out >= 8 && n_out * n_in * n_tokens >= simd::kParallelMinMacs;
  const int64_t grain = simd::row_grain(n_out, par ? nt : 1, 4);
  const int64_t n_items = (n_out + grain - 1) / grain;
  ops_detail::parallel_for(par ? nt : 1, n_items, [&](int64_t it, int) {
    float_rows<Ld>(w, stride, it * grain, simd::imin(n_out, (it + 1) * grain), x, n_tokens, y, accumulate);
  });
}

}  // namespace

size_t matmul_scratch_bytes(DType type, int64_t n_in, int64_t n_tokens, int n_threads) {
  switch (type) {
    case DType::F32:
    case DType::F16:
    case DType::BF16: return 0;
    default: break;
  }
  if (quant_supported(type, n_in)) return quant_scratch_bytes(type, n_in, n_tokens, n_threads);
  return scalar::matmul_scratch_bytes(type, n_in, n_tokens, n_threads);
}

void matmul(const MatrixView& w, const float* x, float* y, int64_t n_tokens, bool accumulate, const OpContext& ctx) {
  const int nt = ctx.n_threads > 0 ? ctx.n_threads : 1;
  if (w.rows <= 0 || n_tokens <= 0) return;
  switch (w.type) {
    case DType::F32: float_matmul<LdF32>(w, x, y, n_tokens, accumulate, nt); return;
    case DType::F16: float_matmul<LdF16>(w, x, y, n_tokens, accumulate, nt); return;
    case DType::BF16: float_matmul<LdBF16>(w, x, y, n_tokens, accumulate, nt); return;
    default: break;
  }
  if (quant_supported(w.type, w.cols)) {
    quant_matmul(w, x, y, n_tokens, accumulate, ctx);
    return;
  }
  scalar::matmul(w, x, y, n_tokens, accumulate, ctx);  // other types, and the error for bad shapes
}

}  // namespace paw::avx2
