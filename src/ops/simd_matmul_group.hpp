#pragma once
// Private: the driver behind the SIMD tables' matmul_group entries (see paw::matmul_group).
// Each ISA supplies how a call joins the shared job; the driver does the bookkeeping: which
// calls join, where their quantized activations go, and how their rows become work items.
// No intrinsics here (see ops/simd.hpp on what ISA files may share).
#include <cstdint>

#include "ops/parallel.hpp"
#include "ops/simd_matmul.hpp"
#include "paw/ops/kernels.hpp"

namespace paw::simd {
namespace {

// Isa provides, for one single-token call c:
//   static bool join(const MatmulCall& c, int n_threads, ActLayout& L)
//       whether c can join the job (in-place path), and then the layout of its quantized
//       activations (L.stride bytes; worked out once per call, not once per work item);
//   static void quantize(const MatmulCall& c, const ActLayout& L, uint8_t* acts);
//   static void rows(const MatmulCall& c, const ActLayout& L, const uint8_t* acts, int64_t r0, int64_t r1);
//   static void alone(const MatmulCall& c, const OpContext& ctx)   — the table's matmul.
// Members' rows are cut at row_grain(rows, n_threads, 16), the split a whole-matrix call
// makes, so every row is computed exactly as there.
template <class Isa>
void group_job(const MatmulCall* calls, int64_t n_calls, const OpContext& ctx) {
  const int nt = ctx.n_threads > 0 ? ctx.n_threads : 1;
  struct Member {
    const MatmulCall* call;
    ActLayout L;
    uint8_t* acts;
    int64_t grain, first_item, n_items;
  };
  constexpr int64_t kMaxMembers = 32;
  Member members[kMaxMembers];
  bool joined[kMaxMembers] = {};  // for the first kMaxMembers calls; later ones run alone
  int64_t n_members = 0, n_items = 0;
  size_t used = 0;
  for (int64_t i = 0; i < n_calls && i < kMaxMembers; ++i) {
    const MatmulCall& c = calls[i];
    ActLayout L;
    if (!Isa::join(c, nt, L)) continue;
    const size_t bytes = L.stride;
    if (used + bytes > ctx.scratch_bytes) continue;
    Member& m = members[n_members++];
    m.call = &c;
    m.L = L;
    m.acts = ctx.scratch + used;
    m.grain = row_grain(c.w.rows, nt, 16);
    m.first_item = n_items;
    m.n_items = (c.w.rows + m.grain - 1) / m.grain;
    n_items += m.n_items;
    used += a64(bytes);
    joined[i] = true;
  }
  // The others first, alone, with the whole scratch (the calls are independent).
  for (int64_t i = 0; i < n_calls; ++i)
    if (i >= kMaxMembers || !joined[i]) Isa::alone(calls[i], ctx);
  if (n_members == 0) return;
  for (int64_t i = 0; i < n_members; ++i) Isa::quantize(*members[i].call, members[i].L, members[i].acts);
  ops_detail::parallel_for(nt, n_items, [&](int64_t item, int) {
    int64_t i = 0;
    while (item >= members[i].first_item + members[i].n_items) ++i;
    const Member& m = members[i];
    const int64_t r0 = (item - m.first_item) * m.grain;
    Isa::rows(*m.call, m.L, m.acts, r0, imin(m.call->w.rows, r0 + m.grain));
  });
}

}  // namespace
}  // namespace paw::simd
