#pragma once
// Private: what the SIMD matmuls of every ISA share — how each quantized weight type maps onto
// the integer kernels, the layout of quantized activations in scratch, the packed "panel"
// layout used for batches, and the split of rows over threads. No intrinsics here; everything
// sits in an anonymous namespace (see ops/simd.hpp for why).
//
// The integer path (quantized weights):
//   every weight value is w = scale · (u − offset) + min, with u an unsigned byte (0..255) and
//   scale/min constant over a sub-block of `sb` values. Activations are quantized per 32 values
//   to int8 (x ≈ dx · qx, dx = max|x| / 127, qx = round(x / dx)), so over one sub-block
//     Σ w·x ≈ scale · dx · (Σ u·qx − offset · Σ qx) + min · dx · Σ qx.
//   Σ u·qx is what vpdpbusd (u8 × s8) computes; the correction −offset·Σqx depends only on the
//   activations and is precomputed per sub-block ("corr"), as is dx·Σqx ("fsum") for the min
//   term. The only approximation is the activation rounding: |error| ≤ Σ|w|·dx/2 per block.
#include <cstddef>
#include <cstdint>

#include "paw/tensor/dtype.hpp"
#include "paw/tensor/interleave.hpp"

// The quantized types of the integer path and the decoder struct each ISA file defines for it
// (same names in every ISA file): X(type, decoder) per type, for type switches.
#define PAW_SIMD_QUANT_DECODERS(X) \
  X(Q8_0, DecQ8_0)                 \
  X(Q4_0, DecQ4_0)                 \
  X(Q5_0, DecQ5_0)                 \
  X(Q4_1, DecQ4_1)                 \
  X(Q5_1, DecQ5_1)                 \
  X(Q4_K, DecQ4_K)                 \
  X(Q5_K, DecQ5_K)                 \
  X(Q6_K, DecQ6_K)                 \
  X(Q4_0_X16, DecQ4_0X16)          \
  X(Q8_0_X16, DecQ8_0X16)
// DecQ4_0X16 / DecQ8_0X16 decode nothing: kKind kInterleavedKind sends their rows to the ISA's
// interleaved kernel for the layout (X16Kernel<Levels> in each ISA file).

namespace paw::simd {
namespace {

constexpr int kInterleavedKind = 7;  // decoder kKind of Q4_0_X16 and Q8_0_X16

inline size_t a64(size_t n) { return (n + 63) / 64 * 64; }
inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

// Bytes per row of n values (n a whole number of blocks; the callers checked). Avoids
// std::optional in ISA files (see ops/simd.hpp on what those may instantiate).
inline size_t row_stride(DType t, int64_t n) {
  const DTypeTraits& tr = traits(t);
  return static_cast<size_t>(n / tr.block_size) * tr.type_size;
}

// Rows per packed panel: one 512-bit vector holds one 32-bit lane per row.
constexpr int64_t kPanelRows = 16;
// Batches of at least this many tokens pack weights into panels; smaller ones (decode) read
// the weights in place. Packing costs about as much per weight as one token of the in-place
// kernel and each further token is several times cheaper in a panel, so panels win from 2-3
// tokens; 4 keeps decode (and 2-3 token speculative steps) on the simpler streaming path.
constexpr int64_t kPanelMinTokens = 4;
// Rows this short (LoRA B matrices: n_in = rank) always go through panels: in place, the fixed
// cost of each row (decoder set-up, horizontal sum, store) would outweigh its one or two
// 64-value chunks; a panel pays it once per 16 rows.
constexpr int64_t kPanelMaxShortRow = 256;

inline bool use_panels(int64_t n_in, int64_t n_tokens) {
  return n_tokens >= kPanelMinTokens || n_in <= kPanelMaxShortRow;
}

// How a quantized weight type maps onto the integer kernels.
struct QuantSpec {
  bool ok = false;       // handled by the integer path
  int64_t block = 32;    // elements per stored block (32, or 256 for K-quants)
  int sb = 32;           // elements sharing one scale: 32, or 16 for Q6_K
  int offset = 0;        // u − offset is the signed level
  bool has_min = false;  // w = scale·u + min (Q4_1, Q5_1, Q4_K, Q5_K)
  // Q4_0_X16 / Q8_0_X16 (paw/tensor/interleave.hpp): 16 rows already side by side, so every
  // batch size runs the interleaved kernel — no panels, no per-lane activation arrays.
  bool interleaved = false;
};

inline QuantSpec quant_spec(DType t) {
  switch (t) {
    case DType::Q8_0: return {true, 32, 32, 128, false};
    case DType::Q4_0: return {true, 32, 32, 8, false};
    case DType::Q4_0_X16: return {true, 32, 32, 8, false, true};
    case DType::Q8_0_X16: return {true, 32, 32, 128, false, true};  // levels stored as q + 128
    case DType::Q5_0: return {true, 32, 32, 16, false};
    case DType::Q4_1: return {true, 32, 32, 0, true};
    case DType::Q5_1: return {true, 32, 32, 0, true};
    case DType::Q4_K: return {true, 256, 32, 0, true};
    case DType::Q5_K: return {true, 256, 32, 0, true};
    case DType::Q6_K: return {true, 256, 16, 32, false};
    default: return {};
  }
}

// The offset quantize_acts applies for weights of spec q. Both interleaved types take
// Q8_0_X16's (corr = −128 · Σ qx), and the Q4_0_X16 kernels divide it by 16 (exact) for their
// own −8 · Σ qx: then Q8_0_X16 base products and Q4_0_X16 LoRA A products of one x share one
// quantized copy (matmul_group), and the base kernel's inner loop stays as it was.
constexpr int kInterleavedActOffset = 128;
inline int act_offset(const QuantSpec& q) { return q.interleaved ? kInterleavedActOffset : q.offset; }

// Values that share one activation scale dx. Legacy types: 32, the weight block. K-quants:
// 256, the super-block, as llama.cpp's Q8_K — then the activation scale is constant over a
// super-block, and the in-place kernels apply the weights' 6-bit sub-block scales in integer
// arithmetic (vpmaddubsw + vpmaddwd/vpdpwssd) and convert to float once per 256 values. The
// per-32 arrays below then simply repeat the super-block's dx.
inline int64_t act_group(const QuantSpec& q) { return q.block; }

// Quantized activations of one token, at a 64-byte aligned stride in scratch:
//   qs    int8 [n_chunks·64]     values, zero-padded to whole 64-value chunks
//   d     f32  [n_blk]           dx of each 32 values (repeated within a 256-group)
//   corr  i32  [n_sub]           −offset · Σ qx per sub-block of sb values (interleaved types:
//                                offset kInterleavedActOffset whatever their levels)
//   fsum  f32  [n_blk]           dx · Σ qx per 32 values (types with a min)
// and, for the in-place kernels of the legacy types, per 64-value chunk, 16 lanes each that line up
// with the lanes of a 512-bit vpdpbusd result (lane j sums values 4j..4j+3 of the chunk):
//   lcorr i32  [n_chunks·16]     corr of each sub-block in the sub-block's first lane, else 0
//   ldx   f32  [n_chunks·16]     dx of the 32-block each lane belongs to
//   lfsum f32  [n_chunks·16]     fsum of each 32-block in the block's first lane, else 0 (the
//                                weights' min vector repeats the min over the block's lanes)
struct ActLayout {
  int64_t n_in = 0, n_chunks = 0, n_blk = 0, n_sub = 0;
  int sb = 32;
  int64_t group = 32;  // values sharing one dx: 32, or 256 for K-quants (see act_group)
  bool lanes = false;
  size_t qs = 0, d = 0, corr = 0, fsum = 0, lcorr = 0, ldx = 0, lfsum = 0, stride = 0;
  bool operator==(const ActLayout&) const = default;
};

inline ActLayout act_layout(int64_t n_in, int sb, bool lanes, int64_t group = 32) {
  ActLayout L;
  L.n_in = n_in;
  L.group = group;
  L.n_chunks = (n_in + 63) / 64;
  L.n_blk = n_in / 32;
  L.n_sub = n_in / sb;
  L.sb = sb;
  L.lanes = lanes;
  size_t o = 0;
  L.qs = o;
  o += a64(static_cast<size_t>(L.n_chunks) * 64);
  L.d = o;
  o += a64(static_cast<size_t>(L.n_blk) * 4);
  L.corr = o;
  o += a64(static_cast<size_t>(L.n_sub) * 4);
  L.fsum = o;
  o += a64(static_cast<size_t>(L.n_blk) * 4);
  if (lanes) {
    const size_t lane_bytes = static_cast<size_t>(L.n_chunks) * 64;
    L.lcorr = o;
    o += lane_bytes;
    L.ldx = o;
    o += lane_bytes;
    L.lfsum = o;
    o += lane_bytes;
  }
  L.stride = o;
  return L;
}

// A packed panel: 16 consecutive weight rows, sub-block by sub-block. Each sub-block is
//   u8   [sb/4][16 rows][4]   the unsigned levels, 4 consecutive values of a row per 32-bit
//                             lane, so one vpdpbusd with a broadcast of 4 activation bytes
//                             advances all 16 rows' dot products at once
//   f32  [16]                 scale of each row
//   f32  [16]                 min of each row (types with a min only)
// Rows past the end of the matrix are zero (their results are not stored).
inline size_t panel_block_bytes(int sb, bool has_min) {
  return static_cast<size_t>(sb) * kPanelRows + 64 + (has_min ? 64 : 0);
}
inline size_t panel_bytes(int64_t n_in, int sb, bool has_min) {
  return static_cast<size_t>(n_in / sb) * panel_block_bytes(sb, has_min);
}
// Staging area for the panel transpose: one KiB (16 rows × 64 values) per 64-value chunk.
inline size_t panel_stage_bytes(int64_t n_in) { return static_cast<size_t>((n_in + 63) / 64) * 1024; }

// Rows per work item when splitting n_rows over threads: small enough for every thread to
// get several items (a busy neighbour on a shared machine then only delays its own), large
// enough to stream weights in long runs. Always a multiple of `unit`.
inline int64_t row_grain(int64_t n_rows, int nt, int64_t unit) {
  int64_t g = n_rows / (static_cast<int64_t>(nt) * 8);
  g = (g + unit - 1) / unit * unit;
  return imax(g, unit);
}

// Rows per work item of an interleaved matrix (LoRA A/B: 36-110 KiB each at rank 64 for Qwen3-0.6B)
// in a decode group: whole matrices up to kInterleavedItemBytes. Every work item pays a fixed
// cost — a claim on the job's shared counter, a cold start of its stream — and cut like the
// base weights (8 items per thread) these small matrices paid it thousands of times per
// token: 2-thread decode with a rank-64 adapter cost 11 % more than without on a quiet host,
// 6 % with whole matrices (about the 3.6 % more bytes it reads, plus the A→B dependency).
constexpr int64_t kInterleavedItemBytes = int64_t{128} << 10;
// Bytes of one 32-value block of a 16-row group: 16 × the stored block (the layout's traits
// carry the stored type's block size: Q4_0 18, Q8_0 34).
inline size_t interleaved_block_bytes(DType t) { return 16 * traits(t).type_size; }
inline int64_t interleaved_grain(DType t, int64_t n_rows, int64_t n_cols) {
  const auto group_bytes = static_cast<int64_t>(static_cast<size_t>(n_cols / 32) * interleaved_block_bytes(t));
  const int64_t groups = imax(1, kInterleavedItemBytes / imax(1, group_bytes));
  return imin((n_rows + 15) / 16, groups) * 16;
}

// Software prefetch for the in-place (decode) kernels, which stream each weight row once: the
// row about this many bytes ahead is requested while the current one is multiplied. The
// hardware prefetchers alone do not run far enough ahead once both cores stream. Measured on
// the 2-core Zen 4 machine, Qwen3-0.6B shapes, 2-thread decode (t/s, Q4_0 / Q8_0): none
// 88 / 76, 2 KiB 117 / 79, 4 KiB 121 / 85, 8 KiB 115 / 86, 16 KiB 110 / 85; one thread, Q4_0:
// none 76, 4 KiB 80.
constexpr int64_t kPrefetchBytes = 4096;
inline int64_t prefetch_rows(size_t row_stride) {
  const auto s = static_cast<int64_t>(row_stride);
  return imax(1, (kPrefetchBytes + s - 1) / s);
}
// Every cache line of one row (a hint: never faults, even past the end of a mapping).
inline void prefetch_row(const uint8_t* row, size_t row_stride) {
  for (size_t i = 0; i < row_stride; i += 64) __builtin_prefetch(row + i, 0, 3);
}
// Rows [r0, r0 + ahead) before a run of rows starts, so that a short run (a LoRA A matrix cut
// into 16-row work items) does not wait for its first rows one miss at a time.
inline void prefetch_rows_start(const uint8_t* data, size_t row_stride, int64_t r0, int64_t r1, int64_t ahead) {
  const int64_t end = imin(r1, r0 + ahead);
  if (end > r0) prefetch_row(data + static_cast<size_t>(r0) * row_stride, static_cast<size_t>(end - r0) * row_stride);
}

// The interleaved kernels stream whole small matrices: they request a work item's
// first bytes at once and then stay this far ahead. Profiled 2-thread decode with a rank-64
// adapter, samples in the interleaved kernel per 100 in the base kernels: 6.8 with no start
// request (4 KiB ahead), 5.8 with one of 4 KiB, 5.0 with 8 KiB, 4.9-5.8 with 16 KiB.
constexpr size_t kInterleavedPrefetchBytes = 8192;
inline void prefetch_item_start(const uint8_t* p, size_t item_bytes) {
  prefetch_row(p, item_bytes < kInterleavedPrefetchBytes ? item_bytes : kInterleavedPrefetchBytes);
}

// Rows [r0, r1) (r0 a multiple of 16) of an interleaved matrix against every token, 4 at a time.
// K::tokens<NT>(group, a, t0, y, n_out, r0, nr, accumulate) is the ISA's kernel for one 16-row
// group (nr of them real) and NT tokens; Acts is the ISA's quantized-activation view.
template <class K, class Acts, class View>
void interleaved_rows(const View& w, int64_t r0, int64_t r1, const Acts& a, int64_t n_tokens, float* y,
                      bool accumulate) {
  const size_t group_bytes = static_cast<size_t>(a.L.n_blk) * K::kBlockBytes;
  prefetch_item_start(w.data + static_cast<size_t>(r0 / 16) * group_bytes,
                      static_cast<size_t>((r1 - r0 + 15) / 16) * group_bytes);
  for (int64_t r = r0; r < r1; r += 16) {
    const uint8_t* group = w.data + static_cast<size_t>(r / 16) * group_bytes;
    const int64_t nr = imin(16, r1 - r);
    int64_t t = 0;
    for (; t + 4 <= n_tokens; t += 4) K::template tokens<4>(group, a, t, y, w.rows, r, nr, accumulate);
    switch (n_tokens - t) {
      case 3: K::template tokens<3>(group, a, t, y, w.rows, r, nr, accumulate); break;
      case 2: K::template tokens<2>(group, a, t, y, w.rows, r, nr, accumulate); break;
      case 1: K::template tokens<1>(group, a, t, y, w.rows, r, nr, accumulate); break;
      default: break;
    }
  }
}

// Below this many multiply-adds a matmul runs on the calling thread: waking the OpenMP team
// costs a few microseconds, as much as a small LoRA projection.
constexpr int64_t kParallelMinMacs = int64_t{1} << 17;

}  // namespace
}  // namespace paw::simd
