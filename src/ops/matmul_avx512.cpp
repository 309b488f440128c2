// AVX-512 matmul entry point, and the float-weight kernels (F32, F16, BF16).
//
// Float weights: a register tile of 4 rows × up to 4 tokens, 16 values per step; each weight
// vector is loaded (and widened, for F16/BF16) once per tile and feeds up to 4 FMAs, and a row
// strip stays in L1/L2 while the batch walks over it, so weights come from memory once per
// call. Activations stay F32 (more exact than llama.cpp, which rounds them to F16), except
// that BF16 weights use vdpbf16ps where the CPU has AVX512_BF16: activations are rounded to
// BF16 once per call (as llama.cpp does) and each instruction does 32 multiply-adds.
// GCC 12's AVX-512 intrinsic headers trip -W(maybe-)uninitialized on their own
// _mm512_undefined_* temporaries (the reductions); silence that before including them.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include "ops/avx512_kernels.hpp"
#include "ops/parallel.hpp"
#include "ops/scalar.hpp"
#include "ops/simd.hpp"
#include "ops/simd_matmul.hpp"

namespace paw::avx512 {
namespace {

// 16 weights [k, k+16) of a row as floats; load_tail reads only the lanes in `m`.
struct LdF32 {
  static __m512 load(const uint8_t* row, int64_t k) { return _mm512_loadu_ps(row + 4 * k); }
  static __m512 load_tail(const uint8_t* row, int64_t k, __mmask16 m) { return _mm512_maskz_loadu_ps(m, row + 4 * k); }
};
struct LdF16 {
  static __m512 load(const uint8_t* row, int64_t k) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * k)));
  }
  static __m512 load_tail(const uint8_t* row, int64_t k, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, row + 2 * k));
  }
};
struct LdBF16 {  // BF16 is the top half of an F32: widen by a 16-bit shift (exact)
  static __m512 load(const uint8_t* row, int64_t k) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * k));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
  }
  static __m512 load_tail(const uint8_t* row, int64_t k, __mmask16 m) {
    const __m256i v = _mm256_maskz_loadu_epi16(m, row + 2 * k);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
  }
};

// out[r * NT + t] = row r · x[t] for R rows starting at w0 and NT tokens starting at x.
template <class Ld, int R, int NT>
void float_tile(const uint8_t* w0, size_t stride, const float* x, int64_t n_in, float* out) {
  __m512 acc[R][NT];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < NT; ++t) acc[r][t] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= n_in; k += 16) {
    __m512 wv[R];
    for (int r = 0; r < R; ++r) wv[r] = Ld::load(w0 + r * stride, k);
    for (int t = 0; t < NT; ++t) {
      const __m512 xv = _mm512_loadu_ps(x + t * n_in + k);
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
  if (k < n_in) {
    const auto m = static_cast<__mmask16>((1u << (n_in - k)) - 1u);
    __m512 wv[R];
    for (int r = 0; r < R; ++r) wv[r] = Ld::load_tail(w0 + r * stride, k, m);
    for (int t = 0; t < NT; ++t) {
      const __m512 xv = _mm512_maskz_loadu_ps(m, x + t * n_in + k);
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < NT; ++t) out[r * NT + t] = _mm512_reduce_add_ps(acc[r][t]);
}

// BF16 weights × BF16-rounded activations with vdpbf16ps; xb rows are padded with zeros to
// a multiple of 32 values (xs elements apart).
template <int R, int NT>
void bf16dp_tile(const uint8_t* w0, size_t stride, const uint16_t* xb, int64_t xs, int64_t n_in, float* out) {
  __m512 acc[R][NT];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < NT; ++t) acc[r][t] = _mm512_setzero_ps();
  for (int64_t k = 0; k < n_in; k += 32) {
    __m512i wv[R];
    if (k + 32 <= n_in) {
      for (int r = 0; r < R; ++r) wv[r] = _mm512_loadu_si512(w0 + r * stride + 2 * k);
    } else {
      const auto m = static_cast<__mmask32>((uint64_t{1} << (n_in - k)) - 1u);
      for (int r = 0; r < R; ++r) wv[r] = _mm512_maskz_loadu_epi16(m, w0 + r * stride + 2 * k);
    }
    for (int t = 0; t < NT; ++t) {
      const __m512i xv = _mm512_load_si512(xb + t * xs + k);
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_dpbf16_ps(acc[r][t], (__m512bh)wv[r], (__m512bh)xv);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < NT; ++t) out[r * NT + t] = _mm512_reduce_add_ps(acc[r][t]);
}

// Rows [r0, r1) of y for every token, R rows and up to 4 tokens per tile.
template <class Tile>
void float_rows(int64_t r0, int64_t r1, int64_t n_tokens, int64_t n_out, float* y, bool accumulate, Tile&& tile) {
  float v[16];
  auto put = [&](int64_t r, int R, int64_t t0, int NT) {
    for (int i = 0; i < R; ++i)
      for (int t = 0; t < NT; ++t) {
        float& dst = y[(t0 + t) * n_out + r + i];
        dst = accumulate ? dst + v[i * NT + t] : v[i * NT + t];
      }
  };
  int64_t r = r0;
  if (n_tokens == 1)  // decode: 8 rows at a time, more independent loads in flight
    for (; r + 8 <= r1; r += 8) {
      tile.template run<8>(r, 0, 1, v);
      put(r, 8, 0, 1);
    }
  for (; r < r1; r += 4) {
    const bool four = r + 4 <= r1;
    for (int64_t t0 = 0; t0 < n_tokens; t0 += 4) {
      const int NT = static_cast<int>(simd::imin(4, n_tokens - t0));
      if (four) {
        tile.template run<4>(r, t0, NT, v);
        put(r, 4, t0, NT);
      } else {
        for (int64_t i = r; i < r1; ++i) {
          tile.template run<1>(i, t0, NT, v);
          put(i, 1, t0, NT);
        }
      }
    }
    if (!four) break;
  }
}

template <class Ld>
struct FloatTile {
  const uint8_t* w;
  size_t stride;
  const float* x;
  int64_t n_in;
  template <int R>
  void run(int64_t r, int64_t t0, int NT, float* v) const {
    const uint8_t* w0 = w + static_cast<size_t>(r) * stride;
    const float* x0 = x + t0 * n_in;
    switch (NT) {
      case 4: float_tile<Ld, R, 4>(w0, stride, x0, n_in, v); break;
      case 3: float_tile<Ld, R, 3>(w0, stride, x0, n_in, v); break;
      case 2: float_tile<Ld, R, 2>(w0, stride, x0, n_in, v); break;
      default: float_tile<Ld, R, 1>(w0, stride, x0, n_in, v); break;
    }
  }
};

struct Bf16DpTile {
  const uint8_t* w;
  size_t stride;
  const uint16_t* xb;
  int64_t xs, n_in;
  template <int R>
  void run(int64_t r, int64_t t0, int NT, float* v) const {
    const uint8_t* w0 = w + static_cast<size_t>(r) * stride;
    const uint16_t* x0 = xb + t0 * xs;
    switch (NT) {
      case 4: bf16dp_tile<R, 4>(w0, stride, x0, xs, n_in, v); break;
      case 3: bf16dp_tile<R, 3>(w0, stride, x0, xs, n_in, v); break;
      case 2: bf16dp_tile<R, 2>(w0, stride, x0, xs, n_in, v); break;
      default: bf16dp_tile<R, 1>(w0, stride, x0, xs, n_in, v); break;
    }
  }
};

bool parallel_worth(int nt, int64_t n_out, int64_t n_in, int64_t n_tokens) {
  return nt > 1 && n_out >= 8 && n_out * n_in * n_tokens >= simd::kParallelMinMacs;
}

template <class Tile>
void run_rows_parallel(int nt, int64_t n_out, int64_t n_in, int64_t n_tokens, float* y, bool accumulate,
                       const Tile& tile) {
  const bool par = parallel_worth(nt, n_out, n_in, n_tokens);
  const int64_t grain = simd::row_grain(n_out, par ? nt : 1, 4);
  const int64_t n_items = (n_out + grain - 1) / grain;
  ops_detail::parallel_for(par ? nt : 1, n_items, [&](int64_t it, int) {
    float_rows(it * grain, simd::imin(n_out, (it + 1) * grain), n_tokens, n_out, y, accumulate, tile);
  });
}

template <class Ld>
void float_matmul(const MatrixView& w, const float* x, float* y, int64_t n_tokens, bool accumulate, int nt) {
  const FloatTile<Ld> tile{w.data, simd::row_stride(w.type, w.cols), x, w.cols};
  run_rows_parallel(nt, w.rows, w.cols, n_tokens, y, accumulate, tile);
}

int64_t bf16_row_elems(int64_t n_in) { return (n_in + 31) / 32 * 32; }

size_t bf16dp_scratch(int64_t n_in, int64_t n_tokens) {
  return simd::a64(static_cast<size_t>(bf16_row_elems(n_in)) * 2) * static_cast<size_t>(n_tokens);
}

bool use_bf16_dot() {
  static const bool yes = cpu::has_avx512_bf16();
  return yes;
}

}  // namespace

void matmul_bf16(const MatrixView& w, const float* x, float* y, int64_t n_tokens, bool accumulate,
                 const OpContext& ctx, bool dot_instructions) {
  const int nt = ctx.n_threads > 0 ? ctx.n_threads : 1;
  if (!dot_instructions) {
    float_matmul<LdBF16>(w, x, y, n_tokens, accumulate, nt);
    return;
  }
  const int64_t n_in = w.cols, xs = bf16_row_elems(n_in);
  ops_detail::check_scratch(ctx, bf16dp_scratch(n_in, n_tokens), "matmul");
  auto* xb = reinterpret_cast<uint16_t*>(ctx.scratch);
  const size_t row_stride = simd::a64(static_cast<size_t>(xs) * 2) / 2;
  for (int64_t t = 0; t < n_tokens; ++t) {  // round activations to BF16 (nearest even), zero padded
    const float* xr = x + t * n_in;
    uint16_t* dst = xb + t * row_stride;
    for (int64_t k = 0; k < xs; k += 32) {
      const int64_t left = n_in - k;
      const auto m0 = static_cast<__mmask16>(left >= 16 ? 0xFFFF : left > 0 ? (1u << left) - 1u : 0u);
      const auto m1 = static_cast<__mmask16>(left >= 32 ? 0xFFFF : left > 16 ? (1u << (left - 16)) - 1u : 0u);
      const __m512 lo = _mm512_maskz_loadu_ps(m0, xr + k), hi = _mm512_maskz_loadu_ps(m1, xr + k + 16);
      _mm512_store_si512(dst + k, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
    }
  }
  const Bf16DpTile tile{w.data, simd::row_stride(w.type, w.cols), xb, static_cast<int64_t>(row_stride), n_in};
  run_rows_parallel(nt, w.rows, n_in, n_tokens, y, accumulate, tile);
}

size_t matmul_scratch_bytes(DType type, int64_t n_in, int64_t n_tokens, int n_threads) {
  switch (type) {
    case DType::F32:
    case DType::F16: return 0;
    case DType::BF16: return bf16dp_scratch(n_in, n_tokens);
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
    case DType::BF16: matmul_bf16(w, x, y, n_tokens, accumulate, ctx, use_bf16_dot()); return;
    default: break;
  }
  if (quant_supported(w.type, w.cols)) {
    quant_matmul(w, x, y, n_tokens, accumulate, ctx);
    return;
  }
  scalar::matmul(w, x, y, n_tokens, accumulate, ctx);  // other types, and the error for bad shapes
}

}  // namespace paw::avx512
