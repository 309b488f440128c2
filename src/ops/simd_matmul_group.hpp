#pragma once
// Private: the driver behind the SIMD tables' matmul_group entries (see paw::matmul_group).
// Each ISA supplies how a call joins the shared job; the driver does the bookkeeping: which
// calls join, where their quantized activations go, how their rows become work items, and
// how the second round waits for the first inside the job.
// No intrinsics here (see ops/simd.hpp on what ISA files may share).
#include <immintrin.h>  // _mm_pause only

#include <atomic>
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
// makes (interleaved ones at interleaved_grain); every in-place kernel computes a row the same
// way wherever a cut at a multiple of 16 rows falls, so results match matmul's bit for bit.
//
// Work items, claimed in this order (parallel_for hands them out in increasing order):
//   [rows of every first-round member] [one "prepare" item per second-round member]
//   [rows of every second-round member].
// A prepare item waits until the first-round members its call depends on — those whose output
// overlaps its input or its output (LoRA: the A product that wrote its x, the base product it
// adds to) — have finished all their items, then scales its member's x (pre_scale) and
// quantizes it; a second-round row item waits for its member's prepare item. So the B product
// of q can run while v's base product is still streaming. Nothing waits for an item claimed
// after it, so the waits end: every awaited item is already running on some thread (or, when
// parallel_for runs alone, already done).
// x = pre_scale · x in place (one IEEE multiply per value: kt.scale's result exactly).
inline void pre_scale_input(const MatmulCall& c) {
  if (c.pre_scale == 1.0f) return;
  auto* x = const_cast<float*>(c.x);  // paw::MatmulCall: a scaled x is the caller's writable buffer
  for (int64_t k = 0; k < c.w.cols; ++k) x[k] *= c.pre_scale;
}

// Whether the floats [a, a + na) and [b, b + nb) share memory.
inline bool overlaps(const float* a, int64_t na, const float* b, int64_t nb) { return a < b + nb && b < a + na; }

template <class Isa>
void group_job(const MatmulCall* first, int64_t n_first, const MatmulCall* second, int64_t n_second,
               const OpContext& ctx) {
  const int nt = ctx.n_threads > 0 ? ctx.n_threads : 1;
  struct Member {
    const MatmulCall* call;
    ActLayout L;
    uint8_t* acts;
    int64_t grain, first_item, n_items;
  };
  constexpr int64_t kMaxMembers = 32;  // per round; later calls run alone
  Member members[2][kMaxMembers];
  int64_t n_members[2] = {0, 0};
  bool joined[2][kMaxMembers] = {};
  int64_t n_items = 0;
  size_t used = 0;
  const MatmulCall* rounds[2] = {first, second};
  const int64_t n_calls[2] = {n_first, n_second};
  for (int r = 0; r < 2; ++r) {
    for (int64_t i = 0; i < n_calls[r] && i < kMaxMembers; ++i) {
      const MatmulCall& c = rounds[r][i];
      ActLayout L;
      if (!Isa::join(c, nt, L) || used + L.stride > ctx.scratch_bytes) continue;
      Member& m = members[r][n_members[r]++];
      m.call = &c;
      m.L = L;
      m.acts = ctx.scratch + used;
      m.grain = is_interleaved(c.w.type) ? interleaved_grain(c.w.type, c.w.rows, c.w.cols) : row_grain(c.w.rows, nt, 16);
      m.n_items = (c.w.rows + m.grain - 1) / m.grain;
      used += a64(L.stride);
      joined[r][i] = true;
    }
  }
  // Item layout: first-round rows, prepares, second-round rows.
  for (int64_t i = 0; i < n_members[0]; ++i) {
    members[0][i].first_item = n_items;
    n_items += members[0][i].n_items;
  }
  const int64_t n_first_items = n_items, first_prepare = n_items;  // prepare items follow
  n_items += n_members[1];
  for (int64_t i = 0; i < n_members[1]; ++i) {
    members[1][i].first_item = n_items;
    n_items += members[1][i].n_items;
  }
  // First-round calls that did not join run alone first, with the whole scratch (the calls are
  // independent); so must second-round ones, but after the job (they read first-round results).
  for (int64_t i = 0; i < n_first; ++i)
    if (i >= kMaxMembers || !joined[0][i]) Isa::alone(first[i], ctx);
  for (int64_t i = 0; i < n_members[0]; ++i) Isa::quantize(*members[0][i].call, members[0][i].L, members[0][i].acts);

  const bool has_second = n_members[1] > 0;
  // Finished items per first-round member, each counter on its own cache line.
  struct alignas(64) Counter {
    std::atomic<int64_t> n{0};
  };
  Counter done[kMaxMembers];
  uint32_t needs[kMaxMembers] = {};  // per second-round member: the first-round members it waits for
  for (int64_t j = 0; j < n_members[1]; ++j) {
    const MatmulCall& c = *members[1][j].call;
    for (int64_t i = 0; i < n_members[0]; ++i) {
      const MatmulCall& f = *members[0][i].call;
      if (overlaps(f.y, f.w.rows, c.x, c.w.cols) || overlaps(f.y, f.w.rows, c.y, c.w.rows)) needs[j] |= 1u << i;
    }
  }
  std::atomic<bool> ready[kMaxMembers];
  for (auto& f : ready) f.store(false, std::memory_order_relaxed);
  // The member of round r whose row items include `item`, and that item's rows.
  const auto member_of = [&](int r, int64_t item) {
    int64_t i = 0;
    while (item >= members[r][i].first_item + members[r][i].n_items) ++i;
    return i;
  };
  const auto run_rows = [&](int r, int64_t i, int64_t item) {
    const Member& m = members[r][i];
    const int64_t r0 = (item - m.first_item) * m.grain;
    Isa::rows(*m.call, m.L, m.acts, r0, imin(m.call->w.rows, r0 + m.grain));
  };
  if (n_items > 0)
    ops_detail::parallel_for(nt, n_items, [&](int64_t item, int) {
      if (item < n_first_items) {
        const int64_t i = member_of(0, item);
        run_rows(0, i, item);
        // Counted only when a second round may wait for it: otherwise each of the ~3000 items
        // of a decode step would pay an atomic add on a cache line both cores write.
        if (has_second) done[i].n.fetch_add(1, std::memory_order_release);
      } else if (item < first_prepare + n_members[1]) {
        const int64_t j = item - first_prepare;
        const Member& m = members[1][j];
        for (int64_t i = 0; i < n_members[0]; ++i)
          if (needs[j] >> i & 1u)
            while (done[i].n.load(std::memory_order_acquire) < members[0][i].n_items) _mm_pause();
        pre_scale_input(*m.call);
        Isa::quantize(*m.call, m.L, m.acts);
        ready[j].store(true, std::memory_order_release);
      } else {
        const int64_t j = member_of(1, item);
        while (!ready[j].load(std::memory_order_acquire)) _mm_pause();
        run_rows(1, j, item);
      }
    });
  for (int64_t i = 0; i < n_second; ++i)
    if (i >= kMaxMembers || !joined[1][i]) {
      pre_scale_input(second[i]);
      Isa::alone(second[i], ctx);
    }
}

}  // namespace
}  // namespace paw::simd
