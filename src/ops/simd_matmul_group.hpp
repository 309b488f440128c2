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
//   static int act_offset(const MatmulCall& c)
//       the level offset quantize applies: calls with the same x, layout and offset quantize
//       to the same bytes, so first-round members sharing an input (q/k/v, gate/up, LoRA A
//       products beside them) share one copy, quantized once;
//   static void rows(const MatmulCall& c, const ActLayout& L, const uint8_t* acts, int64_t r0, int64_t r1);
//   static void alone(const MatmulCall& c, const OpContext& ctx)   — the table's matmul.
// Members' rows are cut at row_grain(rows, n_threads, 16), the split a whole-matrix call
// makes (interleaved ones at interleaved_grain); every in-place kernel computes a row the same
// way wherever a cut at a multiple of 16 rows falls, so results match matmul's bit for bit.
//
// Work items, claimed in this order (parallel_for hands them out in increasing order):
//   [rows of the "early" first-round members: those some second-round call waits for]
//   [the first half of the other first-round members' rows]
//   [per second-round member: one "prepare" item, then its rows — or its one chain item]
//   [the second half of the other first-round members' rows].
// A chain item runs a one-item second-round member together with the one-item first-round
// member it alone waits for (LoRA: B written apart, and its A): A rows, prepare, B rows, on
// one thread, waiting for nothing; that first-round member has no items of its own.
// A prepare item waits until the first-round members its call depends on — those whose output
// overlaps its input or its output (LoRA: the A product that wrote its x; the base product it
// adds to, when it adds to one) — have finished all their items, then scales its member's x
// (pre_scale) and quantizes it; a second-round row item waits for its member's prepare item.
// Nothing waits for an item claimed after it, so the waits end: every awaited item is already
// running on some thread (or, when parallel_for runs alone, already done). When the second
// round depends only on some first-round calls (LoRA B products written apart from the base
// products), its rows sit in the middle of the rest: the job ends on the base weights' even
// 128 KiB items, not on a few small B products that leave the other threads idle; and its
// prepare items come half a job after the early rows, not right behind them: a LoRA A product
// is often one item (o, down: 72–108 KiB), and a prepare item right behind it kept the other
// thread spinning for that whole item.
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
    bool owns_acts;  // false: acts are an earlier member's (same input, same quantization)
    int64_t grain, n_items;
  };
  constexpr int64_t kMaxMembers = 32;  // per round; later calls run alone
  Member members[2][kMaxMembers];
  int64_t n_members[2] = {0, 0};
  bool joined[2][kMaxMembers] = {};
  size_t used = 0;
  const MatmulCall* rounds[2] = {first, second};
  const int64_t n_calls[2] = {n_first, n_second};
  for (int r = 0; r < 2; ++r) {
    for (int64_t i = 0; i < n_calls[r] && i < kMaxMembers; ++i) {
      const MatmulCall& c = rounds[r][i];
      ActLayout L;
      if (!Isa::join(c, nt, L)) continue;
      Member& m = members[r][n_members[r]];
      m.call = &c;
      m.L = L;
      m.acts = nullptr;
      m.owns_acts = true;
      // First round only: a second-round member scales its x in place, so it never shares.
      for (int64_t e = 0; r == 0 && e < n_members[0] && !m.acts; ++e) {
        const Member& o = members[0][e];
        if (o.owns_acts && o.call->x == c.x && o.L == L && Isa::act_offset(*o.call) == Isa::act_offset(c)) {
          m.acts = o.acts;
          m.owns_acts = false;
        }
      }
      if (!m.acts) {
        if (used + L.stride > ctx.scratch_bytes) continue;
        m.acts = ctx.scratch + used;
        used += a64(L.stride);
      }
      ++n_members[r];
      m.grain = is_interleaved(c.w.type) ? interleaved_grain(c.w.type, c.w.rows, c.w.cols) : row_grain(c.w.rows, nt, 16);
      m.n_items = (c.w.rows + m.grain - 1) / m.grain;
      joined[r][i] = true;
    }
  }
  const int64_t n0 = n_members[0], n1 = n_members[1];
  uint32_t needs[kMaxMembers] = {};  // per second-round member: the first-round members it waits for
  uint32_t early = 0;                // every first-round member some second-round one waits for
  for (int64_t j = 0; j < n1; ++j) {
    const MatmulCall& c = *members[1][j].call;
    for (int64_t i = 0; i < n0; ++i) {
      const MatmulCall& f = *members[0][i].call;
      if (overlaps(f.y, f.w.rows, c.x, c.w.cols) || overlaps(f.y, f.w.rows, c.y, c.w.rows)) needs[j] |= 1u << i;
    }
    early |= needs[j];
  }
  // Chains: a second-round member of one item that waits for one first-round member of one item,
  // which nothing else waits for (a LoRA B product written apart, and its A product), runs as ONE
  // item — A rows, prepare, B rows — on one thread: nothing to wait for, the A result never leaves
  // that core's cache, and two claims fewer.
  int64_t chain_of[kMaxMembers];  // per second-round member: its first-round member, or -1
  uint32_t chained = 0;           // first-round members that run inside a chain
  for (int64_t j = 0; j < n1; ++j) {
    chain_of[j] = -1;
    const uint32_t n = needs[j];
    if (n == 0 || (n & (n - 1)) != 0 || members[1][j].n_items != 1) continue;
    const int64_t i = __builtin_ctz(n);
    bool shared = false;
    for (int64_t o = 0; o < n1; ++o) shared |= o != j && (needs[o] & n);
    if (shared || members[0][i].n_items != 1) continue;
    chain_of[j] = i;
    chained |= n;
  }
  early &= ~chained;
  // Item layout as segments in claim order; a first-round member's rows may be cut in two.
  enum class Kind { Rows0, Prepare, Rows1, Chain };
  struct Segment {
    Kind kind;
    int64_t member, first_item, n_items, first_k;  // items [first_item, +n_items) are the member's k = first_k..
  };
  Segment segs[4 * kMaxMembers];
  int64_t n_segs = 0, n_items = 0;
  const auto add = [&](Kind kind, int64_t member, int64_t k0, int64_t count) {
    if (count <= 0) return;
    segs[n_segs++] = {kind, member, n_items, count, k0};
    n_items += count;
  };
  int64_t n_late = 0;
  for (int64_t i = 0; i < n0; ++i) {
    if (chained >> i & 1u) continue;
    if (early >> i & 1u)
      add(Kind::Rows0, i, 0, members[0][i].n_items);
    else
      n_late += members[0][i].n_items;
  }
  const auto second_round = [&] {
    for (int64_t j = 0; j < n1; ++j) {
      if (chain_of[j] >= 0) {
        add(Kind::Chain, j, 0, 1);
        continue;
      }
      add(Kind::Prepare, j, 0, 1);
      add(Kind::Rows1, j, 0, members[1][j].n_items);
    }
  };
  // The second round goes after the first `half` late items (past it, a member's items all
  // come after them).
  const int64_t half = n_late / 2;
  int64_t late_seen = 0;
  bool second_placed = false;
  for (int64_t i = 0; i < n0; ++i) {
    if ((early | chained) >> i & 1u) continue;
    const int64_t n = members[0][i].n_items;
    const int64_t before = imin(n, imax(int64_t{0}, half - late_seen));
    add(Kind::Rows0, i, 0, before);
    if (!second_placed && late_seen + before >= half) {
      second_round();
      second_placed = true;
    }
    add(Kind::Rows0, i, before, n - before);
    late_seen += n;
  }
  if (!second_placed) second_round();

  // First-round calls that did not join run alone first, with the whole scratch (the calls are
  // independent); so must second-round ones, but after the job (they read first-round results).
  for (int64_t i = 0; i < n_first; ++i)
    if (i >= kMaxMembers || !joined[0][i]) Isa::alone(first[i], ctx);
  for (int64_t i = 0; i < n0; ++i)
    if (members[0][i].owns_acts) Isa::quantize(*members[0][i].call, members[0][i].L, members[0][i].acts);

  // Finished items per early first-round member, each counter on its own cache line.
  struct alignas(64) Counter {
    std::atomic<int64_t> n{0};
  };
  Counter done[kMaxMembers];
  std::atomic<bool> ready[kMaxMembers];
  for (auto& f : ready) f.store(false, std::memory_order_relaxed);
  if (n_items > 0)
    ops_detail::parallel_for(nt, n_items, [&](int64_t item, int) {
      const Segment* sg = segs;
      while (item >= sg->first_item + sg->n_items) ++sg;
      const int64_t k = sg->first_k + (item - sg->first_item);
      switch (sg->kind) {
        case Kind::Rows0: {
          const int64_t i = sg->member;
          const Member& m = members[0][i];
          Isa::rows(*m.call, m.L, m.acts, k * m.grain, imin(m.call->w.rows, (k + 1) * m.grain));
          // Counted only when a second round waits for it: otherwise each of the ~3000 items
          // of a decode step would pay an atomic add on a cache line both cores write.
          if (early >> i & 1u) done[i].n.fetch_add(1, std::memory_order_release);
          break;
        }
        case Kind::Prepare: {
          const int64_t j = sg->member;
          for (int64_t i = 0; i < n0; ++i)
            if (needs[j] >> i & 1u)
              while (done[i].n.load(std::memory_order_acquire) < members[0][i].n_items) _mm_pause();
          const Member& m = members[1][j];
          pre_scale_input(*m.call);
          Isa::quantize(*m.call, m.L, m.acts);
          ready[j].store(true, std::memory_order_release);
          break;
        }
        case Kind::Chain: {
          const int64_t j = sg->member;
          const Member& a = members[0][chain_of[j]];
          Isa::rows(*a.call, a.L, a.acts, 0, a.call->w.rows);
          const Member& m = members[1][j];
          pre_scale_input(*m.call);
          Isa::quantize(*m.call, m.L, m.acts);
          Isa::rows(*m.call, m.L, m.acts, 0, m.call->w.rows);
          break;
        }
        case Kind::Rows1: {
          const int64_t j = sg->member;
          const Member& m = members[1][j];
          while (!ready[j].load(std::memory_order_acquire)) _mm_pause();
          Isa::rows(*m.call, m.L, m.acts, k * m.grain, imin(m.call->w.rows, (k + 1) * m.grain));
          break;
        }
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
