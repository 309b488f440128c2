#pragma once
// Private: element-wise kernels written once over a vector type V (simd_vec.hpp) and
// instantiated by simd_isa_glue.inc (glue_avx2.cpp / glue_avx512.cpp). Same contracts as the scalar
// reference (paw/ops/kernels.hpp); single-threaded — these ops touch a few KiB per token,
// less than an OpenMP fork/join costs.
#include <cmath>
#include <cstring>

#include "ops/simd_vec.hpp"
#include "paw/tensor/dtype.hpp"

namespace paw::simd {
namespace {

// Applies f to whole vectors then to the < N tail (partial loads read zeros past the end).
template <class V, class Fn>
void map1(const float* x, float* y, int64_t n, Fn f) {
  int64_t i = 0;
  for (; i + V::N <= n; i += V::N) V::store(y + i, f(V::load(x + i)));
  if (i < n) V::store_n(y + i, f(V::load_n(x + i, n - i)), n - i);
}

template <class V, class Fn>
void map2(const float* a, const float* b, float* y, int64_t n, Fn f) {
  int64_t i = 0;
  for (; i + V::N <= n; i += V::N) V::store(y + i, f(V::load(a + i), V::load(b + i)));
  if (i < n) V::store_n(y + i, f(V::load_n(a + i, n - i), V::load_n(b + i, n - i)), n - i);
}

template <class V>
void rmsnorm_t(const float* x, const float* w, float* y, int64_t n_rows, int64_t n, float eps) {
  using F = typename V::F;
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    typename V::D a0 = V::dzero(), a1 = V::dzero();
    int64_t i = 0;
    for (; i + 2 * V::N <= n; i += 2 * V::N) {
      V::acc_sq_d(V::load(xr + i), a0);
      V::acc_sq_d(V::load(xr + i + V::N), a1);
    }
    for (; i < n; i += V::N) V::acc_sq_d(V::load_n(xr + i, n - i < V::N ? n - i : V::N), a0);
    const double ss = V::dsum(a0) + V::dsum(a1);
    const F inv = V::set1(static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps)));
    map2<V>(xr, w, yr, n, [&](F v, F g) { return V::mul(V::mul(v, inv), g); });
  }
}

template <class V>
void layernorm_t(const float* x, const float* w, const float* b, float* y, int64_t n_rows, int64_t n, float eps) {
  using F = typename V::F;
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    typename V::D s = V::dzero();
    for (int64_t i = 0; i < n; i += V::N) V::acc_d(V::load_n(xr + i, n - i < V::N ? n - i : V::N), s);
    const double mean = V::dsum(s) / static_cast<double>(n);
    // Variance about the mean, from the F32 differences (exact for |x| ≪ 2^24 ulps apart);
    // the sum is in double like the scalar reference.
    const F mv = V::set1(static_cast<float>(mean));
    typename V::D q = V::dzero();
    for (int64_t i = 0; i < n; i += V::N) {
      const int64_t k = n - i < V::N ? n - i : V::N;
      V::acc_sq_d(V::keep_n(V::sub(V::load_n(xr + i, k), mv), k), q);
    }
    const float inv = static_cast<float>(1.0 / std::sqrt(V::dsum(q) / static_cast<double>(n) + eps));
    const F iv = V::set1(inv);
    int64_t i = 0;
    auto one = [&](F v, F g, F bb) { return V::fmadd(V::mul(V::sub(v, mv), iv), g, bb); };
    for (; i + V::N <= n; i += V::N)
      V::store(yr + i, one(V::load(xr + i), V::load(w + i), b ? V::load(b + i) : V::zero()));
    if (i < n) {
      const int64_t k = n - i;
      V::store_n(yr + i, one(V::load_n(xr + i, k), V::load_n(w + i, k), b ? V::load_n(b + i, k) : V::zero()), k);
    }
  }
}

template <class V>
void rope_neox_t(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const float* cos, const float* sin) {
  using F = typename V::F;
  const int64_t half = head_dim / 2;
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* c = cos + t * half;
    const float* s = sin + t * half;
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + (t * n_heads + h) * head_dim;
      for (int64_t i = 0; i < half; i += V::N) {
        const int64_t k = half - i < V::N ? half - i : V::N;
        const F x0 = V::load_n(v + i, k), x1 = V::load_n(v + half + i, k);
        const F cc = V::load_n(c + i, k), ss = V::load_n(s + i, k);
        const F y0 = V::fmsub(x0, cc, V::mul(x1, ss));
        const F y1 = V::fmadd(x0, ss, V::mul(x1, cc));
        if (k == V::N) {
          V::store(v + i, y0);
          V::store(v + half + i, y1);
        } else {
          V::store_n(v + i, y0, k);
          V::store_n(v + half + i, y1, k);
        }
      }
    }
  }
}

// Interleaved rotary embedding (value 2i pairs with 2i + 1, angle of cos[i] / sin[i]) as
// y = x·C + swap_pairs(x)·S with C = (c0, c0, c1, c1, ...) and S = (−s0, s0, −s1, s1, ...).
// C and S are spelled out once per token and block of the head, then reused by every head.
template <class V>
void rope_interleaved_t(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const float* cos,
                        const float* sin) {
  using F = typename V::F;
  constexpr int64_t kBlock = 256;  // even, so no pair straddles two blocks
  alignas(64) float cc[kBlock], ss[kBlock];
  const int64_t half = head_dim / 2;
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* c = cos + t * half;
    const float* s = sin + t * half;
    for (int64_t b0 = 0; b0 < head_dim; b0 += kBlock) {
      const int64_t n = head_dim - b0 < kBlock ? head_dim - b0 : kBlock;
      for (int64_t j = 0; j < n; ++j) {
        const int64_t i = (b0 + j) / 2;
        cc[j] = c[i];
        ss[j] = j % 2 == 0 ? -s[i] : s[i];
      }
      for (int64_t h = 0; h < n_heads; ++h) {
        float* v = x + (t * n_heads + h) * head_dim + b0;
        for (int64_t j = 0; j < n; j += V::N) {
          const int64_t k = n - j < V::N ? n - j : V::N;  // even: head_dim and V::N are
          const F xv = k == V::N ? V::load(v + j) : V::load_n(v + j, k);
          const F y = V::fmadd(xv, V::load(cc + j), V::mul(V::swap_pairs(xv), V::load(ss + j)));
          if (k == V::N)
            V::store(v + j, y);
          else
            V::store_n(v + j, y, k);
        }
      }
    }
  }
}

template <class V>
void softmax_t(float* x, int64_t n) {
  using F = typename V::F;
  if (n <= 0) return;
  F m = V::set1(x[0]);
  int64_t i = 0;
  for (; i + V::N <= n; i += V::N) m = V::max(m, V::load(x + i));
  float mx = V::hmax(m);
  for (; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  const F mv = V::set1(mx);
  typename V::D sum = V::dzero();
  for (i = 0; i + V::N <= n; i += V::N) {
    const F e = vexp<V>(V::sub(V::load(x + i), mv));
    V::store(x + i, e);
    V::acc_d(e, sum);
  }
  if (i < n) {
    const F e = vexp<V>(V::sub(V::load_n(x + i, n - i), mv));
    V::store_n(x + i, e, n - i);
    V::acc_d(V::load_n(x + i, n - i), sum);
  }
  const F inv = V::set1(static_cast<float>(1.0 / V::dsum(sum)));
  map1<V>(x, x, n, [&](F v) { return V::mul(v, inv); });
}

template <class V>
typename V::F silu_v(typename V::F v) {
  const auto one = V::set1(1.0f);
  return V::div(v, V::add(one, vexp<V>(V::sub(V::zero(), v))));
}

template <class V>
void silu_t(const float* x, float* y, int64_t n) {
  map1<V>(x, y, n, [](typename V::F v) { return silu_v<V>(v); });
}

// 0.5·x·(1 + tanh(u)) = x · sigmoid(2u): the same function without tanh's cancellation.
template <class V>
void gelu_t(const float* x, float* y, int64_t n) {
  using F = typename V::F;
  map1<V>(x, y, n, [](F v) {
    const F v3 = V::mul(V::mul(v, v), v);
    const F u2 = V::mul(V::set1(-2.0f * 0.7978845608028654f), V::fmadd(V::set1(0.044715f), v3, v));
    return V::div(v, V::add(V::set1(1.0f), vexp<V>(u2)));
  });
}

template <class V>
void swiglu_t(const float* g, const float* u, float* y, int64_t n) {
  map2<V>(g, u, y, n, [](typename V::F a, typename V::F b) { return V::mul(silu_v<V>(a), b); });
}

template <class V>
void add_t(const float* a, const float* b, float* y, int64_t n) {
  map2<V>(a, b, y, n, [](typename V::F p, typename V::F q) { return V::add(p, q); });
}

template <class V>
void add_rows_t(float* y, const float* b, int64_t n_rows, int64_t n) {
  for (int64_t r = 0; r < n_rows; ++r) add_t<V>(y + r * n, b, y + r * n, n);
}

template <class V>
void scale_t(const float* x, float s, float* y, int64_t n) {
  const auto sv = V::set1(s);
  map1<V>(x, y, n, [&](typename V::F v) { return V::mul(v, sv); });
}

// F16 rows by the hardware conversion (round to nearest even, subnormals kept): bit-identical
// to paw::f32_to_f16 for every non-NaN input; a NaN stays a NaN (the hardware keeps its
// payload where the reference writes 0x7E00).
template <class V>
bool store_row_f16_t(const float* x, void* dst, DType type, int64_t n) {
  if (type == DType::F32) {
    std::memcpy(dst, x, static_cast<size_t>(n) * sizeof(float));
    return true;
  }
  if (type != DType::F16) return false;
  auto* d = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + V::N <= n; i += V::N) V::store_f16(d + i, V::load(x + i));
  if (i < n) V::store_f16_n(d + i, V::load_n(x + i, n - i), n - i);
  return true;
}

}  // namespace
}  // namespace paw::simd
