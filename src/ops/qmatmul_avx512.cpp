// AVX-512 (VNNI) matmul for quantized weights: Q8_0 Q4_0 Q5_0 Q4_1 Q5_1 Q4_K Q5_K Q6_K, and
// Q4_0_X16 and Q8_0_X16 (16 interleaved rows, their own kernel for every batch size: X16Kernel
// below).
//
// Activations are quantized once per call to int8, one scale per 32 values (per 256 for
// K-quants; simd_matmul.hpp explains the arithmetic); weights are decoded to unsigned byte
// levels 64 values at a time and multiplied with vpdpbusd. Two ways to run a batch:
// - in place (decode, n_tokens < kPanelMinTokens): each thread streams its rows straight from
//   the weight mapping, one row against every token. Legacy types: per-lane scale vectors turn
//   each chunk's 16 integer lanes into floats without horizontal sums until the row ends.
//   K-quants: one super-block at a time, sub-block scales applied in integer arithmetic
//   (vpmaddubsw + vpdpwssd), one float FMA per 256 values. Memory bound.
// - panels (prefill, and other rows of ≤ 256 values): a thread decodes 16 rows into a
//   packed panel (simd_matmul.hpp) in its scratch, then runs every token against it, 8 tokens
//   at a time, so the weights are read from memory and decoded once per call. Per 32 values
//   and token the inner kernel issues 8 vpdpbusd (16 rows × 4 values each, activation bytes
//   broadcast from memory), one conversion and two float ops, and writes 16 outputs with one
//   store.

// GCC 12's AVX-512 intrinsic headers trip -W(maybe-)uninitialized on their own
// _mm512_undefined_* temporaries (the reductions); silence that before including them.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstring>

#include "ops/avx512_kernels.hpp"
#include "ops/parallel.hpp"
#include "ops/scalar.hpp"
#include "ops/simd_matmul.hpp"
#include "ops/simd_matmul_group.hpp"
#include "paw/tensor/blocks.hpp"

namespace paw::avx512 {
namespace {

using simd::ActLayout;
using simd::kPanelRows;

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

// 16 floats: lanes 0-7 = half h0, lanes 8-15 = half h1.
inline __m512 half_pair(uint16_t h0, uint16_t h1) {
  const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_set1_epi16(static_cast<short>(h0))),
                                            _mm_set1_epi16(static_cast<short>(h1)), 1);
  return _mm512_cvtph_ps(v);
}

// Index vector selecting element a for lanes 0-7 and a+1 for lanes 8-15.
inline __m512i pair_index(int a) {
  return _mm512_add_epi32(_mm512_set1_epi32(a),
                          _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0));
}

// ---- weight decoders: values [64c, 64c+64) of one row as unsigned bytes (u), with the scale
// and min of the sub-block each 32-bit lane of a vpdpbusd result belongs to (s, m). Chunks
// are requested in increasing order, which lets K-quant decoders keep their super-block's
// scales. Past the end of a row (an odd number of 32-blocks) u, s and m are zero.

struct DecQ8_0 {
  static constexpr int kKind = 0;
  static constexpr int kSb = 32, kOffset = 128;
  static constexpr bool kMin = false;
  const block_q8_0* b;
  int64_t nb;
  DecQ8_0(const uint8_t* row, int64_t n_in) : b(reinterpret_cast<const block_q8_0*>(row)), nb(n_in / 32) {}
  void chunk(int64_t c, __m512i& u, __m512& s, __m512& /*m*/) {
    const __m256i k80 = _mm256_set1_epi8(static_cast<char>(0x80));
    const block_q8_0* p = b + 2 * c;
    const __m256i lo = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p[0].qs)), k80);
    if (2 * c + 1 < nb) {
      const __m256i hi = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p[1].qs)), k80);
      u = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
      s = half_pair(ld16(&p[0].d), ld16(&p[1].d));
    } else {
      u = _mm512_zextsi256_si512(lo);
      s = half_pair(ld16(&p[0].d), 0);
    }
  }
};

// Nibbles of two 16-byte Q4/Q5 legacy blocks (low nibble = element j, high = element j+16) as
// 64 bytes in element order.
inline __m512i legacy_nibbles(const uint8_t* q0, const uint8_t* q1) {
  const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q0));
  const __m128i b = q1 ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(q1)) : _mm_setzero_si128();
  const __m256i q = _mm256_inserti128_si256(_mm256_castsi128_si256(a), b, 1);
  const __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1);
  const __m512i nib = _mm512_and_si512(both, _mm512_set1_epi8(0x0F));  // [lo0 lo1 hi0 hi1]
  return _mm512_shuffle_i64x2(nib, nib, _MM_SHUFFLE(3, 1, 2, 0));      // [lo0 hi0 lo1 hi1]
}

// Q4_0 decode is the hot loop of 4-bit decode (compute-bound there), so it takes both blocks
// of a chunk (2 × 18 bytes: fp16 d, then 16 bytes of nibbles) in ONE 64-byte load instead of
// two loads, three shuffles and two scalar scale loads. Every field of the pair starts at an
// even byte offset, so 16-bit permutes (AVX-512 BW) place them:
//   nibbles: words 1-8 (block 0) and 10-17 (block 1), each twice -> [qs0 qs0 qs1 qs1]; the
//            second copy of each is shifted right by 4, giving [lo0 hi0 lo1 hi1] = element order;
//   scales:  word 0 eight times, then word 9 eight times -> 16 halves -> 16 floats.
// The row's last one or two pairs, where 64 bytes would run past the row, take the general
// path (a masked load was measured 4× slower than the whole loop on Zen 4).
alignas(64) constexpr uint16_t kQ4_0NibbleWords[32] = {1,  2,  3,  4,  5,  6,  7,  8,  1,  2,  3,  4,  5,  6,  7,  8,
                                                        10, 11, 12, 13, 14, 15, 16, 17, 10, 11, 12, 13, 14, 15, 16, 17};
alignas(32) constexpr uint16_t kQ4_0ScaleWords[16] = {0, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9};

struct DecQ4_0 {
  static constexpr int kKind = 0;
  static constexpr int kSb = 32, kOffset = 8;
  static constexpr bool kMin = false;
  const uint8_t* row;
  int64_t nb;
  __m512i nibble_words;
  __m256i scale_words;
  DecQ4_0(const uint8_t* r, int64_t n_in)
      : row(r),
        nb(n_in / 32),
        nibble_words(_mm512_load_si512(kQ4_0NibbleWords)),
        scale_words(_mm256_load_si256(reinterpret_cast<const __m256i*>(kQ4_0ScaleWords))) {}
  void chunk(int64_t c, __m512i& u, __m512& s, __m512& /*m*/) {
    const uint8_t* p = row + static_cast<size_t>(c) * 2 * sizeof(block_q4_0);
    if (2 * c + 4 > nb) {  // the row's last pairs: 64 bytes from p would run past the row
      const block_q4_0* blk = reinterpret_cast<const block_q4_0*>(p);
      const bool two = 2 * c + 1 < nb;
      u = legacy_nibbles(blk[0].qs, two ? blk[1].qs : nullptr);
      s = half_pair(ld16(&blk[0].d), two ? ld16(&blk[1].d) : 0);
      return;
    }
    const __m512i raw = _mm512_loadu_si512(p);  // two more blocks follow the pair: 4 × 18 ≥ 64
    const __m512i q = _mm512_permutexvar_epi16(nibble_words, raw);
    u = _mm512_and_si512(_mm512_mask_srli_epi16(q, 0xFF00FF00u, q, 4), _mm512_set1_epi8(0x0F));
    s = _mm512_cvtph_ps(_mm256_permutexvar_epi16(scale_words, _mm512_castsi512_si256(raw)));
  }
};
static_assert(sizeof(block_q4_0) == 18, "the word offsets above assume ggml's 18-byte Q4_0 block");

struct DecQ4_1 {
  static constexpr int kKind = 0;
  static constexpr int kSb = 32, kOffset = 0;
  static constexpr bool kMin = true;
  const block_q4_1* b;
  int64_t nb;
  DecQ4_1(const uint8_t* row, int64_t n_in) : b(reinterpret_cast<const block_q4_1*>(row)), nb(n_in / 32) {}
  void chunk(int64_t c, __m512i& u, __m512& s, __m512& m) {
    const block_q4_1* p = b + 2 * c;
    const bool two = 2 * c + 1 < nb;
    u = legacy_nibbles(p[0].qs, two ? p[1].qs : nullptr);
    s = half_pair(ld16(&p[0].d), two ? ld16(&p[1].d) : 0);
    m = half_pair(ld16(&p[0].m), two ? ld16(&p[1].m) : 0);
  }
};

// Adds 16 to the bytes whose bit is set in the 32-bit qh words of two blocks.
inline __m512i add_fifth_bit(__m512i u, uint32_t qh0, uint32_t qh1) {
  const __mmask64 k = static_cast<__mmask64>(qh0) | (static_cast<__mmask64>(qh1) << 32);
  return _mm512_mask_add_epi8(u, k, u, _mm512_set1_epi8(16));
}

struct DecQ5_0 {
  static constexpr int kKind = 0;
  static constexpr int kSb = 32, kOffset = 16;
  static constexpr bool kMin = false;
  const block_q5_0* b;
  int64_t nb;
  DecQ5_0(const uint8_t* row, int64_t n_in) : b(reinterpret_cast<const block_q5_0*>(row)), nb(n_in / 32) {}
  void chunk(int64_t c, __m512i& u, __m512& s, __m512& /*m*/) {
    const block_q5_0* p = b + 2 * c;
    const bool two = 2 * c + 1 < nb;
    u = add_fifth_bit(legacy_nibbles(p[0].qs, two ? p[1].qs : nullptr), ld32(p[0].qh), two ? ld32(p[1].qh) : 0);
    s = half_pair(ld16(&p[0].d), two ? ld16(&p[1].d) : 0);
  }
};

struct DecQ5_1 {
  static constexpr int kKind = 0;
  static constexpr int kSb = 32, kOffset = 0;
  static constexpr bool kMin = true;
  const block_q5_1* b;
  int64_t nb;
  DecQ5_1(const uint8_t* row, int64_t n_in) : b(reinterpret_cast<const block_q5_1*>(row)), nb(n_in / 32) {}
  void chunk(int64_t c, __m512i& u, __m512& s, __m512& m) {
    const block_q5_1* p = b + 2 * c;
    const bool two = 2 * c + 1 < nb;
    u = add_fifth_bit(legacy_nibbles(p[0].qs, two ? p[1].qs : nullptr), ld32(p[0].qh), two ? ld32(p[1].qh) : 0);
    s = half_pair(ld16(&p[0].d), two ? ld16(&p[1].d) : 0);
    m = half_pair(ld16(&p[0].m), two ? ld16(&p[1].m) : 0);
  }
};

// The 6-bit scales (bytes 0-7) and mins (bytes 8-15) of a Q4_K/Q5_K super-block (layout in
// paw/tensor/blocks.hpp, get_scale_min_k4, unpacked for all 8 at once from three 32-bit words).
inline __m128i k_scale_min_bytes(const uint8_t* scales) {
  uint32_t w[3];
  std::memcpy(w, scales, 12);
  const uint32_t s_lo = w[0] & 0x3f3f3f3fu;
  const uint32_t s_hi = (w[2] & 0x0f0f0f0fu) | (((w[0] >> 6) & 0x03030303u) << 4);
  const uint32_t m_lo = w[1] & 0x3f3f3f3fu;
  const uint32_t m_hi = ((w[2] >> 4) & 0x0f0f0f0fu) | (((w[1] >> 6) & 0x03030303u) << 4);
  return _mm_set_epi32(static_cast<int>(m_hi), static_cast<int>(m_lo), static_cast<int>(s_hi), static_cast<int>(s_lo));
}

// As floats: lanes 0-7 d·scale, lanes 8-15 −dmin·min.
inline __m512 k_scales_mins(const uint8_t* scales, uint16_t d, uint16_t dmin) {
  const __m512 v = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(k_scale_min_bytes(scales)));
  const __m512 dd = half_pair(d, dmin);
  return _mm512_mul_ps(v, _mm512_mask_sub_ps(dd, 0xFF00, _mm512_setzero_ps(), dd));
}

// Levels of values [64j, 64j+64) of a K-quant super-block, as unsigned bytes.
// Q4_K: the 32 qs bytes of chunk j hold sub-block 2j in the low and 2j+1 in the high nibbles.
inline __m512i q4k_levels(const block_q4_K* p, int j) {
  const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p->qs + 32 * j));
  const __m256i k0f = _mm256_set1_epi8(0x0F);
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(q, k0f)),
                            _mm256_and_si256(_mm256_srli_epi16(q, 4), k0f), 1);
}
// Q5_K: as Q4_K plus 16 where bit 2j (low half) or 2j+1 (high half) of qh[l] is set.
inline __m512i q5k_levels(const block_q5_K* p, int j) {
  const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p->qs + 32 * j));
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p->qh));
  const __m256i k0f = _mm256_set1_epi8(0x0F), k16 = _mm256_set1_epi8(16);
  __m256i lo = _mm256_and_si256(q, k0f), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), k0f);
  lo = _mm256_mask_add_epi8(lo, _mm256_test_epi8_mask(h, _mm256_set1_epi8(static_cast<char>(1 << (2 * j)))), lo, k16);
  hi = _mm256_mask_add_epi8(hi, _mm256_test_epi8_mask(h, _mm256_set1_epi8(static_cast<char>(2 << (2 * j)))), hi, k16);
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}
// Q6_K: chunk j covers half n = j/2, quarters 2p and 2p+1 (p = j%2): the low (p = 0) or high
// (p = 1) nibbles of ql[64n .. 64n+64) and bit pairs of qh[32n .. 32n+32).
inline __m512i q6k_levels(const block_q6_K* p, int j) {
  const int n = j / 2;
  const __m512i ll = _mm512_loadu_si512(p->ql + 64 * n);
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p->qh + 32 * n));
  const __m512i hh = _mm512_inserti64x4(_mm512_castsi256_si512(h), _mm256_srli_epi16(h, 2), 1);
  const __m512i k0f = _mm512_set1_epi8(0x0F), k30 = _mm512_set1_epi8(0x30);
  if ((j & 1) == 0) return _mm512_or_si512(_mm512_and_si512(ll, k0f), _mm512_and_si512(_mm512_slli_epi16(hh, 4), k30));
  return _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ll, 4), k0f), _mm512_and_si512(hh, k30));
}

// ---- interleaved layouts (paw/tensor/interleave.hpp): how one 32-value block of a 16-row group
// becomes 8 vectors of levels, vector k holding values 4k .. 4k+3 of all 16 rows as unsigned
// bytes (the operand of one vpdpbusd against 4 broadcast activation bytes).
struct NibbleLevels {  // Q4_0_X16: four 64-byte vectors of nibble pairs
  // levels 0..15 stand for q + 8: −8 · Σ qx from the acts' −128 · Σ qx (kInterleavedActOffset)
  static int32_t corr(int32_t c128) { return c128 >> 4; }  // exact: a multiple of 128
  static constexpr size_t kBlockBytes = 16 * sizeof(block_q4_0);
  static void load(const uint8_t* p, __m512i (&w)[8]) {
    const __m512i k0f = _mm512_set1_epi8(0x0F);
    for (int m = 0; m < 4; ++m) {
      const __m512i raw = _mm512_loadu_si512(p + 32 + 64 * m);
      w[m] = _mm512_and_si512(raw, k0f);
      w[4 + m] = _mm512_and_si512(_mm512_srli_epi16(raw, 4), k0f);
    }
  }
};
struct ByteLevels {  // Q8_0_X16: eight 64-byte vectors, already q + 128
  static int32_t corr(int32_t c128) { return c128; }  // levels stored as q + 128
  static constexpr size_t kBlockBytes = 16 * sizeof(block_q8_0);
  static void load(const uint8_t* p, __m512i (&w)[8]) {
    for (int m = 0; m < 8; ++m) w[m] = _mm512_loadu_si512(p + 32 + 64 * m);
  }
};

// The interleaved layouts have their own kernel (X16Kernel below); these name them in type
// switches.
struct DecQ4_0X16 {
  static constexpr int kKind = simd::kInterleavedKind;
  using Levels = NibbleLevels;
};
struct DecQ8_0X16 {
  static constexpr int kKind = simd::kInterleavedKind;
  using Levels = ByteLevels;
};

// K-quant decoders in the chunk interface (used to pack panels).
struct DecQ4_K {
  static constexpr int kSb = 32, kOffset = 0, kKind = 4;
  static constexpr bool kMin = true;
  const block_q4_K* b;
  int64_t cached = -1;
  __m512 sm = _mm512_setzero_ps();
  DecQ4_K(const uint8_t* row, int64_t /*n_in*/) : b(reinterpret_cast<const block_q4_K*>(row)) {}
  void chunk(int64_t c, __m512i& u, __m512& s, __m512& m) {
    const block_q4_K* p = b + c / 4;
    if (c / 4 != cached) {
      cached = c / 4;
      sm = k_scales_mins(p->scales, ld16(&p->d), ld16(&p->dmin));
    }
    const int j = static_cast<int>(c % 4);
    u = q4k_levels(p, j);
    s = _mm512_permutexvar_ps(pair_index(2 * j), sm);
    m = _mm512_permutexvar_ps(pair_index(8 + 2 * j), sm);
  }
};

struct DecQ5_K {
  static constexpr int kSb = 32, kOffset = 0, kKind = 5;
  static constexpr bool kMin = true;
  const block_q5_K* b;
  int64_t cached = -1;
  __m512 sm = _mm512_setzero_ps();
  DecQ5_K(const uint8_t* row, int64_t /*n_in*/) : b(reinterpret_cast<const block_q5_K*>(row)) {}
  void chunk(int64_t c, __m512i& u, __m512& s, __m512& m) {
    const block_q5_K* p = b + c / 4;
    if (c / 4 != cached) {
      cached = c / 4;
      sm = k_scales_mins(p->scales, ld16(&p->d), ld16(&p->dmin));
    }
    const int j = static_cast<int>(c % 4);
    u = q5k_levels(p, j);
    s = _mm512_permutexvar_ps(pair_index(2 * j), sm);
    m = _mm512_permutexvar_ps(pair_index(8 + 2 * j), sm);
  }
};

struct DecQ6_K {
  static constexpr int kSb = 16, kOffset = 32, kKind = 6;
  static constexpr bool kMin = false;
  const block_q6_K* b;
  int64_t cached = -1;
  __m512 sc = _mm512_setzero_ps();
  DecQ6_K(const uint8_t* row, int64_t /*n_in*/) : b(reinterpret_cast<const block_q6_K*>(row)) {}
  void chunk(int64_t c, __m512i& u, __m512& s, __m512& /*m*/) {
    const block_q6_K* p = b + c / 4;
    if (c / 4 != cached) {
      cached = c / 4;
      const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p->scales));
      sc = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(raw)), _mm512_set1_ps(_cvtsh_ss(ld16(&p->d))));
    }
    const int j = static_cast<int>(c % 4);
    u = q6k_levels(p, j);
    // lanes 4k..4k+3 belong to 16-value sub-block 4j + k
    const __m512i idx = _mm512_add_epi32(_mm512_set1_epi32(4 * j),
                                         _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0));
    s = _mm512_permutexvar_ps(idx, sc);
  }
};

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


// ---- driver

struct QuantPlan {
  bool panel;
  ActLayout L;
  size_t act_bytes, per_thread, total;
};

QuantPlan plan(const simd::QuantSpec& q, int64_t n_in, int64_t n_tokens, int nt) {
  QuantPlan p;
  // One-chunk legacy rows (LoRA B, rank <= 64) at decode batch sizes: short_rows beats packing
  // a panel for every call.
  const bool one_chunk = q.block == 32 && q.sb == 32 && n_in <= 64 && n_tokens < simd::kPanelMinTokens;
  p.panel = simd::use_panels(n_in, n_tokens) && !one_chunk && !q.interleaved;
  // Lanes only for the legacy in-place kernel; the K-quant and interleaved ones need none.
  p.L = simd::act_layout(n_in, q.sb, !p.panel && q.block == 32 && !q.interleaved, simd::act_group(q));
  p.act_bytes = simd::a64(p.L.stride * static_cast<size_t>(n_tokens));
  p.per_thread = p.panel ? simd::a64(simd::panel_bytes(n_in, q.sb, q.has_min)) + simd::panel_stage_bytes(n_in) : 0;
  p.total = p.act_bytes + p.per_thread * static_cast<size_t>(nt);
  return p;
}

// Rows [r0, r1) on the in-place path (r0 a multiple of 16, so one-chunk rows group as in a
// whole-matrix call).
template <class D>
void rows_in_place(const MatrixView& w, size_t stride, int64_t r0, int64_t r1, const Acts& a, int64_t n_tokens,
                   float* y, bool accumulate) {
  if constexpr (D::kKind == simd::kInterleavedKind) {
    simd::interleaved_rows<X16Kernel<typename D::Levels>>(w, r0, r1, a, n_tokens, y, accumulate);
  } else {
    if constexpr (D::kKind == 0) {
      if (a.L.n_chunks == 1) return short_rows<D>(w, stride, r0, r1, a, n_tokens, y, accumulate);
    }
    direct_rows<D>(w, stride, r0, r1, a, n_tokens, y, accumulate);
  }
}

template <class D>
void quant_matmul(const MatrixView& w, const float* x, float* y, int64_t n_tokens, bool accumulate,
                  const OpContext& ctx, const QuantPlan& p) {
  const int64_t n_in = w.cols, n_out = w.rows;
  const size_t stride = simd::row_stride(w.type, n_in);
  const int nt = ctx.n_threads > 0 ? ctx.n_threads : 1;
  const bool par = nt > 1 && n_out * n_in * n_tokens >= simd::kParallelMinMacs && n_out >= 2 * kPanelRows;
  const Acts a{ctx.scratch, p.L.stride, p.L};
  uint8_t* thread_area = ctx.scratch + p.act_bytes;

  const int use = par ? nt : 1;
  // Activations first (every row needs every token), in parallel only when there are many.
  const bool quantize_par = par && n_tokens * n_in > (int64_t{1} << 15);
  ops_detail::parallel_for(quantize_par ? use : 1, n_tokens, [&](int64_t t, int) {
    quantize_acts(x + t * n_in, p.L, simd::act_offset(simd::quant_spec(w.type)),
                  ctx.scratch + t * p.L.stride);
  });
  if constexpr (D::kKind != simd::kInterleavedKind) {
    if (p.panel) {
      const int64_t n_panels = (n_out + kPanelRows - 1) / kPanelRows;
      ops_detail::parallel_for(use, n_panels, [&](int64_t pi, int worker) {
        uint8_t* panel = thread_area + p.per_thread * static_cast<size_t>(worker);
        uint8_t* stage = panel + simd::a64(simd::panel_bytes(n_in, D::kSb, D::kMin));
        const int64_t r0 = pi * kPanelRows, nr = simd::imin(kPanelRows, n_out - r0);
        pack_panel<D>(w, stride, r0, nr, panel, stage);
        panel_all_tokens<D>(panel, a, n_tokens, y, n_out, r0, nr, accumulate);
      });
      return;
    }
  }
  const int64_t grain = simd::row_grain(n_out, use, 16);
  const int64_t n_items = (n_out + grain - 1) / grain;
  ops_detail::parallel_for(use, n_items, [&](int64_t it, int) {
    const int64_t r0 = it * grain, r1 = simd::imin(n_out, (it + 1) * grain);
    rows_in_place<D>(w, stride, r0, r1, a, n_tokens, y, accumulate);
  });
}

// ---- groups of single-token products (matmul_group; driver in simd_matmul_group.hpp)

template <class D>
void rows_for(const MatmulCall& c, const uint8_t* acts, const ActLayout& L, int64_t r0, int64_t r1) {
  rows_in_place<D>(c.w, simd::row_stride(c.w.type, c.w.cols), r0, r1, Acts{acts, L.stride, L}, 1, c.y, c.accumulate);
}

struct GroupIsa {
  // Quantized weights on the in-place path (not panels: rows of up to 256 values other than
  // one-chunk legacy rows) join the job.
  static bool join(const MatmulCall& c, int nt, ActLayout& L) {
    if (!quant_supported(c.w.type, c.w.cols)) return false;
    const QuantPlan p = plan(simd::quant_spec(c.w.type), c.w.cols, 1, nt);
    L = p.L;
    return !p.panel;
  }
  static void quantize(const MatmulCall& c, const ActLayout& L, uint8_t* acts) {
    quantize_acts(c.x, L, simd::act_offset(simd::quant_spec(c.w.type)), acts);
  }
  static int act_offset(const MatmulCall& c) { return simd::act_offset(simd::quant_spec(c.w.type)); }
  static void rows(const MatmulCall& c, const ActLayout& L, const uint8_t* acts, int64_t r0, int64_t r1) {
    switch (c.w.type) {
#define PAW_ROWS_CASE(T, D) \
  case DType::T: rows_for<D>(c, acts, L, r0, r1); break;
      PAW_SIMD_QUANT_DECODERS(PAW_ROWS_CASE)
#undef PAW_ROWS_CASE
      default: break;
    }
  }
  static void alone(const MatmulCall& c, const OpContext& ctx) { matmul(c.w, c.x, c.y, 1, c.accumulate, ctx); }
};

}  // namespace

void matmul_group(const MatmulCall* first, int64_t n_first, const MatmulCall* second, int64_t n_second,
                  const OpContext& ctx) {
  simd::group_job<GroupIsa>(first, n_first, second, n_second, ctx);
}

bool quant_supported(DType type, int64_t n_in) {
  const simd::QuantSpec q = simd::quant_spec(type);
  return q.ok && n_in > 0 && n_in % q.block == 0;
}

size_t quant_scratch_bytes(DType type, int64_t n_in, int64_t n_tokens, int n_threads) {
  const simd::QuantSpec q = simd::quant_spec(type);
  const int nt = n_threads > 0 ? n_threads : 1;
  // Monotone in n_tokens: a smaller batch than the one sized for must fit too.
  size_t need = plan(q, n_in, simd::imin(n_tokens, simd::kPanelMinTokens - 1), nt).total;
  if (n_tokens >= simd::kPanelMinTokens) {
    const size_t big = plan(q, n_in, n_tokens, nt).total;
    need = big > need ? big : need;
  }
  return need;
}

void quant_matmul(const MatrixView& w, const float* x, float* y, int64_t n_tokens, bool accumulate,
                  const OpContext& ctx) {
  const simd::QuantSpec q = simd::quant_spec(w.type);
  const int nt = ctx.n_threads > 0 ? ctx.n_threads : 1;
  const QuantPlan p = plan(q, w.cols, n_tokens, nt);
  ops_detail::check_scratch(ctx, p.total, "matmul");
  switch (w.type) {
#define PAW_RUN_CASE(T, D) \
  case DType::T: quant_matmul<D>(w, x, y, n_tokens, accumulate, ctx, p); break;
    PAW_SIMD_QUANT_DECODERS(PAW_RUN_CASE)
#undef PAW_RUN_CASE
    default: break;
  }
}

}  // namespace paw::avx512
