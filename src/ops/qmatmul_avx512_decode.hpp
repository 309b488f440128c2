// Weight decoders of the AVX-512 quantized matmul: per-type chunk decoders (legacy, K-quants) and
// the interleaved X16 level layouts.
// Part of the AVX-512 quantized matmul (qmatmul_avx512.cpp explains the arithmetic and the
// schedules); included by that file only, in the order it lists, inside one translation unit
// so that every kernel still inlines into the driver exactly as before the split.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "ops/simd_matmul.hpp"
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

// Adds 16 to the bytes whose bit is set in the 32-bit qh words of two blocks.
inline __m512i add_fifth_bit(__m512i u, uint32_t qh0, uint32_t qh1) {
  const __mmask64 k = static_cast<__mmask64>(qh0) | (static_cast<__mmask64>(qh1) << 32);
  return _mm512_mask_add_epi8(u, k, u, _mm512_set1_epi8(16));
}

// Q4_1, Q5_0 and Q5_1: two 32-value blocks per chunk, nibbles (plus the fifth bit of Q5) as
// levels, one half-precision scale per block (and a min for the _1 types).
template <class Block, bool Fifth, bool Min>
struct DecLegacy {
  static constexpr int kKind = 0;
  static constexpr int kSb = 32, kOffset = Fifth && !Min ? 16 : 0;
  static constexpr bool kMin = Min;
  const Block* b;
  int64_t nb;
  DecLegacy(const uint8_t* row, int64_t n_in) : b(reinterpret_cast<const Block*>(row)), nb(n_in / 32) {}
  void chunk(int64_t c, __m512i& u, __m512& s, __m512& m) {
    const Block* p = b + 2 * c;
    const bool two = 2 * c + 1 < nb;
    u = legacy_nibbles(p[0].qs, two ? p[1].qs : nullptr);
    if constexpr (Fifth) u = add_fifth_bit(u, ld32(p[0].qh), two ? ld32(p[1].qh) : 0);
    s = half_pair(ld16(&p[0].d), two ? ld16(&p[1].d) : 0);
    if constexpr (Min) m = half_pair(ld16(&p[0].m), two ? ld16(&p[1].m) : 0);
  }
};
using DecQ4_1 = DecLegacy<block_q4_1, false, true>;
using DecQ5_0 = DecLegacy<block_q5_0, true, false>;
using DecQ5_1 = DecLegacy<block_q5_1, true, true>;

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

// K-quant decoders in the chunk interface (used to pack panels). Q4_K and Q5_K differ only in
// their block type and how a chunk's levels are read (Kind 4 or 5).
template <class Block, int Kind>
struct DecQ45_K {
  static constexpr int kSb = 32, kOffset = 0, kKind = Kind;
  static constexpr bool kMin = true;
  const Block* b;
  int64_t cached = -1;
  __m512 sm = _mm512_setzero_ps();
  DecQ45_K(const uint8_t* row, int64_t /*n_in*/) : b(reinterpret_cast<const Block*>(row)) {}
  void chunk(int64_t c, __m512i& u, __m512& s, __m512& m) {
    const Block* p = b + c / 4;
    if (c / 4 != cached) {
      cached = c / 4;
      sm = k_scales_mins(p->scales, ld16(&p->d), ld16(&p->dmin));
    }
    const int j = static_cast<int>(c % 4);
    if constexpr (Kind == 4) u = q4k_levels(p, j);
    else u = q5k_levels(p, j);
    s = _mm512_permutexvar_ps(pair_index(2 * j), sm);
    m = _mm512_permutexvar_ps(pair_index(8 + 2 * j), sm);
  }
};
using DecQ4_K = DecQ45_K<block_q4_K, 4>;
using DecQ5_K = DecQ45_K<block_q5_K, 5>;

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

}  // namespace
}  // namespace paw::avx512
