#pragma once
// Private: the thread pool behind the SIMD kernels' parallel loops.
//
// Why not `#pragma omp parallel`: an OpenMP region ends with a barrier that waits for every
// thread of the team, including one the OS has not scheduled yet. On a machine where other
// processes compete for the cores (a laptop, a shared build box) that turns every one of the
// ~200 matmuls of a decode step into a wait for a scheduler time slice: measured on the 2-vCPU
// development machine under a parallel build, 2-thread decode ran at 1/10 of 1-thread speed.
//
// parallel_for instead hands out work items through an atomic counter. The calling thread
// always works too; pool threads that are awake (they spin briefly after each job, so during a
// forward pass they are) claim items as they come; the caller waits only for items that were
// claimed and are still running — never for a thread that has not shown up. With every core
// free this behaves like an OpenMP loop with dynamic scheduling (fork/join ≈ 1 µs); with none
// free it degrades to the single-threaded speed instead of far below it.
#include <cstdint>
#include <type_traits>

namespace paw::ops_detail {

// Runs fn(ctx, i, worker) for every i in [0, n_items) on up to n_threads threads (the caller
// counts as one). Items may run in any order and concurrently; `worker` (0 = the caller,
// 1 .. n_threads-1 = pool threads) tells which per-thread scratch slot an item may use. If
// another parallel_for is running (a second session on another thread), this one runs on the
// calling thread alone, as worker 0.
void parallel_for(int n_threads, int64_t n_items, void (*fn)(void* ctx, int64_t item, int worker), void* ctx);

// Same with any callable f(int64_t item, int worker).
template <class F>
void parallel_for(int n_threads, int64_t n_items, F&& f) {
  if (n_threads <= 1 || n_items <= 1) {
    for (int64_t i = 0; i < n_items; ++i) f(i, 0);
    return;
  }
  using Fn = std::remove_reference_t<F>;
  parallel_for(
      n_threads, n_items, [](void* c, int64_t i, int w) { (*static_cast<Fn*>(c))(i, w); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

}  // namespace paw::ops_detail
