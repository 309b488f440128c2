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
// The parts, by job: decoders, the in-place (decode) schedule, panels, the X16 kernel.
#include "ops/qmatmul_avx512_decode.hpp"
#include "ops/qmatmul_avx512_in_place.hpp"
#include "ops/qmatmul_avx512_panels.hpp"
#include "ops/qmatmul_avx512_x16.hpp"

namespace paw::avx512 {
namespace {

using simd::ActLayout;
using simd::kPanelRows;

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

// ---- groups of single-token products: quantized weights on the in-place path (not panels:
// rows of up to 256 values other than one-chunk legacy rows) join the job; the rest of the
// glue is simd_quant_group.inc.
bool group_join(const MatmulCall& c, int nt, ActLayout& L) {
  const QuantPlan p = plan(simd::quant_spec(c.w.type), c.w.cols, 1, nt);
  L = p.L;
  return !p.panel;
}

}  // namespace

#include "ops/simd_quant_group.inc"

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
