// AVX2 matmul for quantized weights: Q8_0 Q4_0 Q5_0 Q4_1 Q5_1 Q4_K Q5_K Q6_K, and Q4_0_X16 and
// Q8_0_X16 (16 interleaved rows, their own kernel: X16Kernel below).
//
// Same arithmetic as the AVX-512 kernels (activations rounded to int8 per 32 values once per
// call, simd_matmul.hpp), without VNNI: one 32-value block of a row is decoded into a 256-bit
// register, multiplied with vpmaddubsw (u8 × s8 → pairs of int16) and vpmaddwd (→ 8 int32
// lanes), then scaled into an F32 accumulator. vpmaddubsw saturates at ±32767, so levels
// must stay ≤ 128 in magnitude: types with an offset are decoded to signed levels
// (u − offset, |·| ≤ 128) and multiplied as |w| × (x with w's sign) (vpsignb); types with a
// min (levels 0..31) go in unsigned directly, and their min term uses dx·Σq per block.
// Each row is decoded once per tile of up to 4 tokens and the tile shares the decoded
// registers, so for a batch the weights are read from memory once.
#include <immintrin.h>

#include <cstring>

#include "ops/avx2_kernels.hpp"
#include "ops/parallel.hpp"
#include "ops/scalar.hpp"
#include "ops/simd_matmul.hpp"
#include "ops/simd_matmul_group.hpp"
#include "paw/tensor/blocks.hpp"

namespace paw::avx2 {
namespace {

using simd::ActLayout;

inline uint16_t ld16(const void* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline uint32_t ld32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

// 0xFF in byte j where bit j of `bits` is set.
inline __m256i bits_to_bytes(uint32_t bits) {
  const __m256i shuf = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101, 0x0202020202020202,
                                          0x0303030303030303);
  const __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuf);
  const __m256i bm = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
  return _mm256_cmpeq_epi8(_mm256_and_si256(v, bm), bm);
}

// The 32 nibbles of a legacy Q4/Q5 block (low nibble = element j, high = element j + 16).
inline __m256i nibbles(const uint8_t* qs) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(q), _mm_srli_epi16(q, 4), 1);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// ---- block decoders: block b (32 values) of a row as levels w (signed when kSigned, else
// unsigned), the scale of each of the 8 int32 lanes of the dot product (s), and the block's
// min (m, types with a min). Blocks are requested in increasing order.

struct DecQ8_0 {
  static constexpr int kKind = 0;
  static constexpr bool kSigned = true, kMin = false;
  const block_q8_0* b;
  DecQ8_0(const uint8_t* row) : b(reinterpret_cast<const block_q8_0*>(row)) {}
  void block(int64_t i, __m256i& w, __m256& s, float& /*m*/) {
    w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qs));
    s = _mm256_set1_ps(h2f(ld16(&b[i].d)));
  }
};

struct DecQ4_0 {
  static constexpr int kKind = 0;
  static constexpr bool kSigned = true, kMin = false;
  const block_q4_0* b;
  DecQ4_0(const uint8_t* row) : b(reinterpret_cast<const block_q4_0*>(row)) {}
  void block(int64_t i, __m256i& w, __m256& s, float& /*m*/) {
    w = _mm256_sub_epi8(nibbles(b[i].qs), _mm256_set1_epi8(8));
    s = _mm256_set1_ps(h2f(ld16(&b[i].d)));
  }
};

struct DecQ5_0 {
  static constexpr int kKind = 0;
  static constexpr bool kSigned = true, kMin = false;
  const block_q5_0* b;
  DecQ5_0(const uint8_t* row) : b(reinterpret_cast<const block_q5_0*>(row)) {}
  void block(int64_t i, __m256i& w, __m256& s, float& /*m*/) {
    const __m256i hi = _mm256_and_si256(bits_to_bytes(ld32(b[i].qh)), _mm256_set1_epi8(16));
    w = _mm256_sub_epi8(_mm256_or_si256(nibbles(b[i].qs), hi), _mm256_set1_epi8(16));
    s = _mm256_set1_ps(h2f(ld16(&b[i].d)));
  }
};

struct DecQ4_1 {
  static constexpr int kKind = 0;
  static constexpr bool kSigned = false, kMin = true;
  const block_q4_1* b;
  DecQ4_1(const uint8_t* row) : b(reinterpret_cast<const block_q4_1*>(row)) {}
  void block(int64_t i, __m256i& w, __m256& s, float& m) {
    w = nibbles(b[i].qs);
    s = _mm256_set1_ps(h2f(ld16(&b[i].d)));
    m = h2f(ld16(&b[i].m));
  }
};

struct DecQ5_1 {
  static constexpr int kKind = 0;
  static constexpr bool kSigned = false, kMin = true;
  const block_q5_1* b;
  DecQ5_1(const uint8_t* row) : b(reinterpret_cast<const block_q5_1*>(row)) {}
  void block(int64_t i, __m256i& w, __m256& s, float& m) {
    const __m256i hi = _mm256_and_si256(bits_to_bytes(ld32(b[i].qh)), _mm256_set1_epi8(16));
    w = _mm256_or_si256(nibbles(b[i].qs), hi);
    s = _mm256_set1_ps(h2f(ld16(&b[i].d)));
    m = h2f(ld16(&b[i].m));
  }
};

// d·scale[j] and −dmin·min[j] of a Q4_K/Q5_K super-block (layout: paw/tensor/blocks.hpp,
// get_scale_min_k4, unpacked here for all 8 at once from the three 32-bit words).
inline void k_scales_mins(const uint8_t* scales, uint16_t d, uint16_t dmin, float* sc, float* mn) {
  uint32_t w[3];
  std::memcpy(w, scales, 12);
  const uint32_t v[4] = {w[0] & 0x3f3f3f3fu, (w[2] & 0x0f0f0f0fu) | (((w[0] >> 6) & 0x03030303u) << 4),
                         w[1] & 0x3f3f3f3fu, ((w[2] >> 4) & 0x0f0f0f0fu) | (((w[1] >> 6) & 0x03030303u) << 4)};
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(v));
  const __m256 s = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
  const __m256 m = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8)));
  _mm256_storeu_ps(sc, _mm256_mul_ps(s, _mm256_set1_ps(h2f(d))));
  _mm256_storeu_ps(mn, _mm256_mul_ps(m, _mm256_set1_ps(-h2f(dmin))));
}

// K-quants run per super-block (k45_row, k6_row below); these only tag the kind.
struct DecQ4_K {
  static constexpr int kKind = 4;
};
struct DecQ5_K {
  static constexpr int kKind = 5;
};
struct DecQ6_K {
  static constexpr int kKind = 6;
};

// The interleaved layouts have their own kernel (X16Kernel below); these name them in type
// switches (Levels: defined with the kernel).
struct NibbleLevels;
struct ByteLevels;
struct DecQ4_0X16 {
  static constexpr int kKind = simd::kInterleavedKind;
  using Levels = NibbleLevels;
};
struct DecQ8_0X16 {
  static constexpr int kKind = simd::kInterleavedKind;
  using Levels = ByteLevels;
};

// ---- activations: qs, d and fsum of simd::ActLayout (no lanes, no corr)

// Rounds 32 values by the scale id; stores the bytes and returns the 8 int32 partial sums of
// each 16 (lanes 0-3: values 0-15, lanes 4-7: values 16-31... summed pairwise below).
inline void round_block(const float* x, __m256 id, int8_t* qs, int32_t* s16) {
  __m256i q[4];
  for (int k = 0; k < 4; ++k) q[k] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), id));
  // int32 → int8 with saturation; packs interleave 128-bit lanes, the permute undoes it
  const __m256i p01 = _mm256_packs_epi32(q[0], q[1]), p23 = _mm256_packs_epi32(q[2], q[3]);
  const __m256i p = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(p01, p23), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), p);
  for (int h = 0; h < 2; ++h) {
    const __m256i s = _mm256_add_epi32(q[2 * h], q[2 * h + 1]);
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, _MM_SHUFFLE(1, 0, 3, 2)));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, _MM_SHUFFLE(2, 3, 0, 1)));
    s16[h] = _mm_cvtsi128_si32(s4);
  }
}

// qs, d, corr and fsum of simd::ActLayout (no lanes), one dx per L.group values.
void quantize_acts(const float* x, const ActLayout& L, int offset, uint8_t* dst) {
  auto* qs = reinterpret_cast<int8_t*>(dst + L.qs);
  auto* d = reinterpret_cast<float*>(dst + L.d);
  auto* corr = reinterpret_cast<int32_t*>(dst + L.corr);
  auto* fsum = reinterpret_cast<float*>(dst + L.fsum);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const int64_t per_group = L.group / 32;
  for (int64_t g = 0; g < L.n_blk; g += per_group) {
    __m256 mx = _mm256_setzero_ps();
    for (int64_t i = 32 * g; i < 32 * (g + per_group); i += 8)
      mx = _mm256_max_ps(mx, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    const float dd = amax / 127.0f;
    const __m256 id = _mm256_set1_ps(dd != 0.0f ? 1.0f / dd : 0.0f);
    for (int64_t b = g; b < g + per_group; ++b) {
      int32_t s16[2];
      round_block(x + 32 * b, id, qs + 32 * b, s16);
      d[b] = dd;
      fsum[b] = dd * static_cast<float>(s16[0] + s16[1]);
      if (L.sb == 32) {
        corr[b] = -offset * (s16[0] + s16[1]);
      } else {
        corr[2 * b] = -offset * s16[0];
        corr[2 * b + 1] = -offset * s16[1];
      }
    }
  }
}

struct Acts {
  const uint8_t* base;
  size_t stride;
  ActLayout L;
  const uint8_t* tok(int64_t t) const { return base + static_cast<size_t>(t) * stride; }
};

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Lane i of the result = the sum of the 8 lanes of v[i] (three rounds of pairwise adds).
inline __m256 reduce8(const __m256* v) {
  const __m256 a = _mm256_hadd_ps(_mm256_hadd_ps(v[0], v[1]), _mm256_hadd_ps(v[2], v[3]));
  const __m256 b = _mm256_hadd_ps(_mm256_hadd_ps(v[4], v[5]), _mm256_hadd_ps(v[6], v[7]));
  // a: [rows 0-3 over the low 128 bits | rows 0-3 over the high 128 bits], b likewise for 4-7
  return _mm256_add_ps(_mm256_permute2f128_ps(a, b, 0x20), _mm256_permute2f128_ps(a, b, 0x31));
}

// One row against tokens [t0, t0 + NT): per token a vector to sum horizontally, plus the min
// term (types with a min) as a scalar.
template <class D, int NT>
void row_token_sums(const uint8_t* row, const Acts& a, int64_t t0, __m256* sums, float* min_terms) {
  D dec(row);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 f[NT];
  float mins[NT];
  const int8_t* qs[NT];
  const float* dx[NT];
  const float* fs[NT];
  for (int t = 0; t < NT; ++t) {
    f[t] = _mm256_setzero_ps();
    mins[t] = 0.0f;
    const uint8_t* p = a.tok(t0 + t);
    qs[t] = reinterpret_cast<const int8_t*>(p + a.L.qs);
    dx[t] = reinterpret_cast<const float*>(p + a.L.d);
    fs[t] = reinterpret_cast<const float*>(p + a.L.fsum);
  }
  for (int64_t b = 0; b < a.L.n_blk; ++b) {
    __m256i w;
    __m256 s;
    float m = 0.0f;
    dec.block(b, w, s, m);
    const __m256i aw = D::kSigned ? _mm256_sign_epi8(w, w) : w;  // |w|
    for (int t = 0; t < NT; ++t) {
      __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs[t] + 32 * b));
      if constexpr (D::kSigned) xv = _mm256_sign_epi8(xv, w);
      const __m256i i32 = _mm256_madd_epi16(_mm256_maddubs_epi16(aw, xv), ones);
      f[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i32), _mm256_mul_ps(s, _mm256_set1_ps(dx[t][b])), f[t]);
      if constexpr (D::kMin) mins[t] += m * fs[t][b];
    }
  }
  for (int t = 0; t < NT; ++t) {
    sums[t] = f[t];
    min_terms[t] = mins[t];
  }
}

template <class D, int NT>
void row_tokens(const uint8_t* row, const Acts& a, int64_t t0, float* out) {
  __m256 sums[NT];
  float mins[NT];
  row_token_sums<D, NT>(row, a, t0, sums, mins);
  for (int t = 0; t < NT; ++t) out[t] = hsum(sums[t]) + mins[t];
}

// ---- K-quants, one super-block (256 values, one activation scale) at a time: vpmaddubsw
// (levels × activations, in pairs) then vpmaddwd by the sub-block scales (16-bit) give int32
// lanes with the scales applied; one conversion and FMA per super-block and token.

inline __m256i nib_lo(__m256i q) { return _mm256_and_si256(q, _mm256_set1_epi8(0x0F)); }
inline __m256i nib_hi(__m256i q) { return _mm256_and_si256(_mm256_srli_epi16(q, 4), _mm256_set1_epi8(0x0F)); }

template <bool Q5, int NT>
void k45_row(const uint8_t* row, const Acts& a, int64_t t0, float* out) {
  const int64_t n_sb = a.L.n_in / 256;
  const size_t blk_bytes = Q5 ? sizeof(block_q5_K) : sizeof(block_q4_K);
  __m256 f[NT], fm[NT];
  const int8_t* xq[NT];
  const float* dx[NT];
  const float* fs[NT];
  for (int t = 0; t < NT; ++t) {
    f[t] = fm[t] = _mm256_setzero_ps();
    const uint8_t* p = a.tok(t0 + t);
    xq[t] = reinterpret_cast<const int8_t*>(p + a.L.qs);
    dx[t] = reinterpret_cast<const float*>(p + a.L.d);
    fs[t] = reinterpret_cast<const float*>(p + a.L.fsum);
  }
  for (int64_t sb = 0; sb < n_sb; ++sb) {
    const uint8_t* blk = row + static_cast<size_t>(sb) * blk_bytes;
    const auto* hdr = reinterpret_cast<const block_q4_K*>(blk);  // Q5_K starts the same way
    alignas(16) float sc[8], mn[8];
    k_scales_mins(hdr->scales, 0x3C00 /* 1.0 */, ld16(&hdr->dmin), sc, mn);
    const float d = h2f(ld16(&hdr->d));
    const uint8_t* qs = Q5 ? reinterpret_cast<const block_q5_K*>(blk)->qs : hdr->qs;
    const __m256i qh = Q5 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(reinterpret_cast<const block_q5_K*>(blk)->qh))
                          : _mm256_setzero_si256();
    __m256i acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_si256();
    for (int j = 0; j < 8; ++j) {  // 32-value sub-block j: nibble (j&1) of qs[32(j/2) ..]
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * (j / 2)));
      __m256i u = (j & 1) ? nib_hi(q) : nib_lo(q);
      if (Q5) {
        const __m256i bit = _mm256_set1_epi8(static_cast<char>(1 << j));
        u = _mm256_or_si256(u, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, bit), bit), _mm256_set1_epi8(16)));
      }
      const __m256i scl = _mm256_set1_epi16(static_cast<short>(sc[j]));
      for (int t = 0; t < NT; ++t) {
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq[t] + 256 * sb + 32 * j));
        acc[t] = _mm256_add_epi32(acc[t], _mm256_madd_epi16(_mm256_maddubs_epi16(u, xv), scl));
      }
    }
    const __m256 mins = _mm256_load_ps(mn);
    for (int t = 0; t < NT; ++t) {
      f[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[t]), _mm256_set1_ps(d * dx[t][8 * sb]), f[t]);
      fm[t] = _mm256_fmadd_ps(mins, _mm256_loadu_ps(fs[t] + 8 * sb), fm[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = hsum(_mm256_add_ps(f[t], fm[t]));
}

template <int NT>
void k6_row(const uint8_t* row, const Acts& a, int64_t t0, float* out) {
  const int64_t n_sb = a.L.n_in / 256;
  __m256 f[NT];
  const int8_t* xq[NT];
  const float* dx[NT];
  const int32_t* corr[NT];
  for (int t = 0; t < NT; ++t) {
    f[t] = _mm256_setzero_ps();
    const uint8_t* p = a.tok(t0 + t);
    xq[t] = reinterpret_cast<const int8_t*>(p + a.L.qs);
    dx[t] = reinterpret_cast<const float*>(p + a.L.d);
    corr[t] = reinterpret_cast<const int32_t*>(p + a.L.corr);
  }
  const auto* blocks = reinterpret_cast<const block_q6_K*>(row);
  for (int64_t sb = 0; sb < n_sb; ++sb) {
    const block_q6_K* p = blocks + sb;
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p->scales));
    const __m256i sc_lo = _mm256_cvtepi8_epi32(raw), sc_hi = _mm256_cvtepi8_epi32(_mm_srli_si128(raw, 8));
    const float d = h2f(ld16(&p->d));
    __m256i acc[NT];
    for (int t = 0; t < NT; ++t) {  // −32 · Σ_j sc_j · Σ x over sub-block j
      const __m256i c0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(corr[t] + 16 * sb));
      const __m256i c1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(corr[t] + 16 * sb + 8));
      acc[t] = _mm256_add_epi32(_mm256_mullo_epi32(c0, sc_lo), _mm256_mullo_epi32(c1, sc_hi));
    }
    for (int jb = 0; jb < 8; ++jb) {  // 32-value block jb = 4n + q (see DecQ6_K)
      const int n = jb / 4, q = jb % 4;
      const __m256i l = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p->ql + 64 * n + 32 * (q & 1)));
      const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p->qh + 32 * n));
      const __m256i lo = q < 2 ? nib_lo(l) : nib_hi(l);
      const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(h, 2 * q), _mm256_set1_epi8(0x03));
      const __m256i u = _mm256_or_si256(lo, _mm256_slli_epi16(hb, 4));
      const __m256i scl = _mm256_setr_m128i(_mm_set1_epi16(p->scales[2 * jb]), _mm_set1_epi16(p->scales[2 * jb + 1]));
      for (int t = 0; t < NT; ++t) {
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq[t] + 256 * sb + 32 * jb));
        acc[t] = _mm256_add_epi32(acc[t], _mm256_madd_epi16(_mm256_maddubs_epi16(u, xv), scl));
      }
    }
    for (int t = 0; t < NT; ++t)
      f[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[t]), _mm256_set1_ps(d * dx[t][8 * sb]), f[t]);
  }
  for (int t = 0; t < NT; ++t) out[t] = hsum(f[t]);
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
    row_tokens<D, NT>(row, a, t0, out);
}

// ---- Q4_0_X16 / Q8_0_X16: 16 interleaved rows (layouts in paw/tensor/interleave.hpp), as two
// halves of 8 rows. Per 32-value block each half's scales are one 128-bit load and its levels 8
// vectors, vector k the levels of values 4k .. 4k+3 of 8 rows, multiplied with 4 broadcast
// activation bytes by vpmaddubsw (Levels::dot).

struct NibbleLevels {  // Q4_0_X16: four 256-bit loads per half, split by and/shift into 0..15
  static constexpr size_t kBlockBytes = 16 * sizeof(block_q4_0);
  static void load(const uint8_t* p, int h, __m256i (&w)[8]) {
    const __m256i k0f = _mm256_set1_epi8(0x0F);
    for (int m = 0; m < 4; ++m) {
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 + 64 * m + 32 * h));
      w[m] = _mm256_and_si256(raw, k0f);
      w[4 + m] = _mm256_and_si256(_mm256_srli_epi16(raw, 4), k0f);
    }
  }
  // Eight int16 pair sums stay below 8 · 2 · 15 · 127 = 30480, so they add in int16 before one
  // vpmaddwd widens them; −8 · Σq (the acts hold −128 · Σq: kInterleavedActOffset, so ÷ 16,
  // exact) turns the unsigned levels into Q4_0's signed ones.
  static __m256i dot(const __m256i (&w)[8], const int8_t* xq, int32_t c128) {
    const int32_t corr = c128 >> 4;  // exact: a multiple of 128
    __m256i s16 = _mm256_setzero_si256();
    for (int k = 0; k < 8; ++k)
      s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(w[k], _mm256_set1_epi32(static_cast<int>(ld32(xq + 4 * k)))));
    return _mm256_add_epi32(_mm256_madd_epi16(s16, _mm256_set1_epi16(1)), _mm256_set1_epi32(corr));
  }
};
struct ByteLevels {  // Q8_0_X16: eight 256-bit loads per half, back to signed q (u XOR 0x80)
  static constexpr size_t kBlockBytes = 16 * sizeof(block_q8_0);
  static void load(const uint8_t* p, int h, __m256i (&w)[8]) {
    const __m256i k80 = _mm256_set1_epi8(static_cast<char>(0x80));
    for (int m = 0; m < 8; ++m)
      w[m] = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 + 64 * m + 32 * h)), k80);
  }
  // Unsigned levels up to 255 would saturate vpmaddubsw: |q| × (x with q's sign) stays within
  // 2 · 128 · 127 = 32512 per pair; each k is widened by vpmaddwd before the next. Signed
  // levels need no offset correction, so corr is not used.
  static __m256i dot(const __m256i (&w)[8], const int8_t* xq, int32_t /*corr*/) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i s32 = _mm256_setzero_si256();
    for (int k = 0; k < 8; ++k) {
      const __m256i x = _mm256_set1_epi32(static_cast<int>(ld32(xq + 4 * k)));
      const __m256i p16 = _mm256_maddubs_epi16(_mm256_abs_epi8(w[k]), _mm256_sign_epi8(x, w[k]));
      s32 = _mm256_add_epi32(s32, _mm256_madd_epi16(p16, ones));
    }
    return s32;
  }
};

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
    __m256 f[NT][2];
    for (int t = 0; t < NT; ++t) {
      const uint8_t* p = a.tok(t0 + t);
      qs[t] = reinterpret_cast<const int8_t*>(p + a.L.qs);
      dx[t] = reinterpret_cast<const float*>(p + a.L.d);
      corr[t] = reinterpret_cast<const int32_t*>(p + a.L.corr);
      f[t][0] = f[t][1] = _mm256_setzero_ps();
    }
    for (int64_t b = 0; b < a.L.n_blk; ++b) {
      const uint8_t* p = group + static_cast<size_t>(b) * kBlockBytes;
      simd::prefetch_row(p + simd::kInterleavedPrefetchBytes, kBlockBytes);
      for (int h = 0; h < 2; ++h) {
        const __m256 sc = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * h)));
        __m256i w[8];
        Levels::load(p, h, w);
        for (int t = 0; t < NT; ++t) {
          const __m256i dot = Levels::dot(w, qs[t] + 32 * b, corr[t][b]);
          f[t][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_mul_ps(sc, _mm256_set1_ps(dx[t][b])), f[t][h]);
        }
      }
    }
    for (int t = 0; t < NT; ++t) {
      alignas(32) float v[16];
      _mm256_store_ps(v, f[t][0]);
      _mm256_store_ps(v + 8, f[t][1]);
      float* dst = y + (t0 + t) * n_out + r0;
      for (int64_t i = 0; i < nr; ++i) dst[i] = accumulate ? dst[i] + v[i] : v[i];
    }
  }
};

template <class D>
void rows_in_place(const MatrixView& w, size_t stride, int64_t r0, int64_t r1, const Acts& a, int64_t n_tokens, float* y,
          bool accumulate) {
  if constexpr (D::kKind == simd::kInterleavedKind) {
    simd::interleaved_rows<X16Kernel<typename D::Levels>>(w, r0, r1, a, n_tokens, y, accumulate);
  } else {
    const int64_t n_out = w.rows;
    float v[4];
    const int64_t ahead = simd::prefetch_rows(stride);
    simd::prefetch_rows_start(w.data, stride, r0, r1, ahead);
    if constexpr (D::kKind == 0) {
      // Decode: the vector sums of 8 rows reduced together (reduce8) and stored at once,
      // instead of a chain of dependent shuffles and a scalar store ending every row
      // (1-thread Qwen3-0.6B-shape decode with this table: Q4_0 46.2 -> 47.9, Q8_0 40.8 -> 43.3 t/s).
      if (n_tokens == 1)
        for (; r0 + 8 <= r1; r0 += 8) {
          __m256 sums[8];
          alignas(32) float mins[8];
          for (int i = 0; i < 8; ++i) {
            const uint8_t* row = w.data + static_cast<size_t>(r0 + i) * stride;
            if (r0 + i + ahead < r1) simd::prefetch_row(row + static_cast<size_t>(ahead) * stride, stride);
            row_token_sums<D, 1>(row, a, 0, &sums[i], &mins[i]);
          }
          __m256 v8 = _mm256_add_ps(reduce8(sums), _mm256_load_ps(mins));
          if (accumulate) v8 = _mm256_add_ps(_mm256_loadu_ps(y + r0), v8);
          _mm256_storeu_ps(y + r0, v8);
        }
    }
    for (int64_t r = r0; r < r1; ++r) {
      const uint8_t* row = w.data + static_cast<size_t>(r) * stride;
      if (r + ahead < r1) simd::prefetch_row(row + static_cast<size_t>(ahead) * stride, stride);
      for (int64_t t0 = 0; t0 < n_tokens; t0 += 4) {
        const int64_t nt = simd::imin(4, n_tokens - t0);
        switch (nt) {
          case 4: row_kernel<D, 4>(row, a, t0, v); break;
          case 3: row_kernel<D, 3>(row, a, t0, v); break;
          case 2: row_kernel<D, 2>(row, a, t0, v); break;
          default: row_kernel<D, 1>(row, a, t0, v); break;
        }
        for (int64_t t = 0; t < nt; ++t) {
          float& dst = y[(t0 + t) * n_out + r];
          dst = accumulate ? dst + v[t] : v[t];
        }
      }
    }
  }
}

ActLayout layout(DType type, int64_t n_in) {
  const simd::QuantSpec q = simd::quant_spec(type);
  return simd::act_layout(n_in, q.sb, false, simd::act_group(q));
}

template <class D>
void run(const MatrixView& w, const float* x, float* y, int64_t n_tokens, bool accumulate, const OpContext& ctx) {
  const int64_t n_in = w.cols, n_out = w.rows;
  const size_t stride = simd::row_stride(w.type, n_in);
  const int nt = ctx.n_threads > 0 ? ctx.n_threads : 1;
  const bool par = nt > 1 && n_out * n_in * n_tokens >= simd::kParallelMinMacs && n_out >= 32;
  const ActLayout L = layout(w.type, n_in);
  const Acts a{ctx.scratch, L.stride, L};
  const int use = par ? nt : 1;
  // Activations first (every row needs every token), in parallel only when there are many.
  const bool quantize_par = par && n_tokens * n_in > (int64_t{1} << 15);
  ops_detail::parallel_for(quantize_par ? use : 1, n_tokens, [&](int64_t t, int) {
    quantize_acts(x + t * n_in, L, simd::act_offset(simd::quant_spec(w.type)),
                  ctx.scratch + t * L.stride);
  });
  const int64_t grain = simd::row_grain(n_out, use, 16);
  const int64_t n_items = (n_out + grain - 1) / grain;
  ops_detail::parallel_for(use, n_items, [&](int64_t it, int) {
    rows_in_place<D>(w, stride, it * grain, simd::imin(n_out, (it + 1) * grain), a, n_tokens, y, accumulate);
  });
}

// ---- groups of single-token products: every quantized call joins the job (this table has no
// panels); the rest of the glue is simd_quant_group.inc.
bool group_join(const MatmulCall& c, int /*nt*/, ActLayout& L) {
  L = layout(c.w.type, c.w.cols);
  return true;
}

}  // namespace

#include "ops/simd_quant_group.inc"

size_t quant_scratch_bytes(DType type, int64_t n_in, int64_t n_tokens, int /*n_threads*/) {
  return layout(type, n_in).stride * static_cast<size_t>(n_tokens);
}

void quant_matmul(const MatrixView& w, const float* x, float* y, int64_t n_tokens, bool accumulate,
                  const OpContext& ctx) {
  ops_detail::check_scratch(ctx, quant_scratch_bytes(w.type, w.cols, n_tokens, ctx.n_threads), "matmul");
  switch (w.type) {
#define PAW_RUN_CASE(T, D) \
  case DType::T: run<D>(w, x, y, n_tokens, accumulate, ctx); break;
    PAW_SIMD_QUANT_DECODERS(PAW_RUN_CASE)
#undef PAW_RUN_CASE
    default: break;
  }
}

}  // namespace paw::avx2
