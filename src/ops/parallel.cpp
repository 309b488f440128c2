// The kernels' thread pool (see parallel.hpp for why it is not OpenMP).
//
// One job at a time. Publishing a job: write its arguments, set the claim word to
// (generation << 32 | n_items), then bump `generation` and wake sleepers. The low half counts
// the items not yet claimed: a worker claims one of generation g by a compare-exchange of the
// claim word from (g << 32 | left) to (g << 32 | left - 1), left > 0, and runs item
// n_items - left. The generation and the bound live in the one word the compare-exchange
// checks, so a worker that saw an older generation can never claim an item of a newer job
// (an earlier layout kept n_items apart: a worker late from the previous job could read the
// old claim word and the new bound, and its exchange could still land before the new claim
// word was stored — one item then ran twice). A job's arguments stay valid until every
// claimed item has reported done, which the publisher waits for; n_items is read only after a
// successful claim, when it is therefore this job's.
#include "ops/parallel.hpp"

#include <immintrin.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace paw::ops_detail {
namespace {

using Fn = void (*)(void*, int64_t, int);

class Pool {
 public:
  // The pool lives for the whole process and is never destroyed (see pool()): joining
  // sleeping workers from a static destructor at exit is where hangs hide.

  void run(int n_threads, int64_t n_items, Fn fn, void* ctx) {
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock()) {  // another caller owns the pool: do this job alone
      for (int64_t i = 0; i < n_items; ++i) fn(ctx, i, 0);
      return;
    }
    grow(n_threads - 1);
    fn_.store(fn, std::memory_order_relaxed);
    ctx_.store(ctx, std::memory_order_relaxed);
    n_items_.store(static_cast<uint64_t>(n_items), std::memory_order_relaxed);
    helpers_.store(n_threads - 1, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    const uint32_t gen = generation_.load(std::memory_order_relaxed) + 1;
    claim_.store(static_cast<uint64_t>(gen) << 32 | static_cast<uint64_t>(n_items), std::memory_order_release);
    // seq_cst on both sides of the sleeper check (here and in work()): either the worker sees
    // the new generation before it sleeps, or this thread sees it asleep and wakes it.
    generation_.store(gen, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      // A sleeper checks the generation under sleep_mu_; taking the mutex here orders this
      // notify after any such check, so no wake-up is lost.
      { std::lock_guard<std::mutex> lock(sleep_mu_); }
      sleep_cv_.notify_all();
    }

    uint64_t mine = 0;
    for (int64_t i; (i = claim(gen)) >= 0; ++mine) fn(ctx, i, 0);
    done_.fetch_add(mine, std::memory_order_acq_rel);
    while (done_.load(std::memory_order_acquire) < static_cast<uint64_t>(n_items)) _mm_pause();
  }

 private:
  // Next item of job `gen`, or -1 when it has none left (or a newer job replaced it). Items go
  // out in increasing order (matmul_group relies on the claim order).
  int64_t claim(uint32_t gen) {
    uint64_t c = claim_.load(std::memory_order_acquire);
    for (;;) {
      const uint64_t left = c & 0xFFFFFFFFu;
      if ((c >> 32) != gen || left == 0) return -1;
      if (claim_.compare_exchange_weak(c, c - 1, std::memory_order_acq_rel, std::memory_order_acquire))
        // The claimed item keeps job `gen` alive, so n_items_ (published before the claim word
        // this exchange read) is still its value.
        return static_cast<int64_t>(n_items_.load(std::memory_order_relaxed) - left);
    }
  }

  void grow(int n) {
    while (static_cast<int>(workers_.size()) < n) {
      const int index = static_cast<int>(workers_.size());
      workers_.emplace_back([this, index] { work(index + 1); });
    }
  }

  void work(int worker) {
    uint32_t seen = generation_.load(std::memory_order_acquire);
    for (;;) {
      // Spin for a while (consecutive kernels of a forward pass follow within microseconds),
      // then sleep until the next job.
      uint32_t g = generation_.load(std::memory_order_acquire);
      auto t0 = std::chrono::steady_clock::now();
      for (int spins = 0; g == seen; ++spins) {
        _mm_pause();
        if ((spins & 255) == 255 && std::chrono::steady_clock::now() - t0 > std::chrono::microseconds(kSpinMicros)) {
          // A mutex + condition variable, not std::atomic::wait: libstdc++ 12's atomic
          // wait/notify lost wake-ups here (workers slept forever).
          std::unique_lock<std::mutex> lock(sleep_mu_);
          sleepers_.fetch_add(1, std::memory_order_seq_cst);
          sleep_cv_.wait(lock, [&] { return generation_.load(std::memory_order_seq_cst) != seen; });
          sleepers_.fetch_sub(1, std::memory_order_seq_cst);
          t0 = std::chrono::steady_clock::now();
        }
        g = generation_.load(std::memory_order_acquire);
      }
      seen = g;
      if (worker > helpers_.load(std::memory_order_acquire)) continue;  // this job asked for fewer threads
      uint64_t mine = 0;
      // Arguments of job g: published before its claim word, read after claiming from it.
      for (int64_t i; (i = claim(g)) >= 0; ++mine)
        fn_.load(std::memory_order_relaxed)(ctx_.load(std::memory_order_relaxed), i, worker);
      if (mine) done_.fetch_add(mine, std::memory_order_acq_rel);
    }
  }

  static constexpr int kSpinMicros = 300;

  std::mutex busy_;
  std::vector<std::thread> workers_;
  std::atomic<uint32_t> generation_{0};
  std::atomic<uint64_t> claim_{0};
  std::atomic<uint64_t> done_{0};
  std::atomic<int> sleepers_{0};
  std::mutex sleep_mu_;
  std::condition_variable sleep_cv_;
  std::atomic<Fn> fn_{nullptr};
  std::atomic<void*> ctx_{nullptr};
  std::atomic<uint64_t> n_items_{0};
  std::atomic<int> helpers_{0};
};

Pool& pool() {
  static Pool* p = new Pool;  // intentionally never destroyed: workers may be mid-sleep at exit
  return *p;
}

}  // namespace

void parallel_for(int n_threads, int64_t n_items, void (*fn)(void* ctx, int64_t item, int worker), void* ctx) {
  if (n_items <= 0) return;
  // The claim word counts the items left in 32 bits; a job of 2^32 items or more (never made
  // by the kernels, whose items are rows or blocks of rows) runs on the caller.
  if (n_threads <= 1 || n_items == 1 || n_items > int64_t{0xFFFFFFFF}) {
    for (int64_t i = 0; i < n_items; ++i) fn(ctx, i, 0);
    return;
  }
  pool().run(n_threads, n_items, fn, ctx);
}

}  // namespace paw::ops_detail
