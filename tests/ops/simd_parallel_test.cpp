// The kernels' thread pool (src/ops/parallel.hpp): every item runs exactly once, worker ids
// stay below the thread count, back-to-back jobs (the decode pattern) and concurrent callers
// (two sessions on two threads) work, and matmuls from concurrent callers give the same
// results as alone.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "ops/parallel.hpp"
#include "ops_test_util.hpp"

namespace paw {
namespace {

TEST(SimdParallel, EveryItemOnceWithValidWorkerIds) {
  for (int threads : {1, 2, 3, 8})
    for (int64_t n : {0, 1, 2, 5, 64, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::atomic<int> bad_worker{0};
      ops_detail::parallel_for(threads, n, [&](int64_t i, int w) {
        hits[static_cast<size_t>(i)].fetch_add(1);
        if (w < 0 || w >= threads) bad_worker.fetch_add(1);
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << threads << " " << n << " " << i;
      EXPECT_EQ(bad_worker.load(), 0);
    }
}

TEST(SimdParallel, NoItemRunsTwiceWhenJobSizesAlternate) {
  // A worker finishing a small job while the next, larger job is published must not claim an
  // item of the new job through the old job's claim word: with the bound kept apart from the
  // claim word, an item past the small job's end ran twice or not at all. The race needs a
  // worker preempted between two loads, so threads spinning beside the pool take the cores
  // away at random points (with them, the faulty layout failed here in most runs).
  std::atomic<bool> stop{false};
  std::vector<std::thread> noise;
  for (int t = 0; t < 2; ++t)
    noise.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) std::this_thread::yield();
    });
  const int64_t sizes[] = {2, 64, 3, 40, 5, 128};
  std::vector<std::atomic<int>> hits(128);
  int64_t wrong = 0, first_wrong_job = -1;
  for (int job = 0; job < 30000 && wrong == 0; ++job) {
    const int64_t n = sizes[job % 6];
    for (int64_t i = 0; i < n; ++i) hits[static_cast<size_t>(i)].store(0, std::memory_order_relaxed);
    ops_detail::parallel_for(job % 2 ? 8 : 3, n, [&](int64_t i, int) { hits[static_cast<size_t>(i)].fetch_add(1); });
    for (int64_t i = 0; i < n; ++i)
      if (hits[static_cast<size_t>(i)].load() != 1) {
        ++wrong;
        first_wrong_job = job;
      }
  }
  stop.store(true);
  for (auto& t : noise) t.join();
  EXPECT_EQ(wrong, 0) << "first at job " << first_wrong_job;
}

TEST(SimdParallel, ManyShortJobsInARow) {
  // ~ the number of parallel kernels in a few decode steps; a lost wake-up would hang here.
  std::atomic<int64_t> sum{0};
  for (int job = 0; job < 3000; ++job)
    ops_detail::parallel_for(2, 3, [&](int64_t i, int) { sum.fetch_add(i + 1); });
  EXPECT_EQ(sum.load(), 3000 * 6);
}

TEST(SimdParallel, ConcurrentCallers) {
  std::atomic<int64_t> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&] {
      for (int job = 0; job < 200; ++job)
        ops_detail::parallel_for(2, 17, [&](int64_t i, int) { total.fetch_add(i); });
    });
  for (auto& t : callers) t.join();
  EXPECT_EQ(total.load(), 4 * 200 * (16 * 17 / 2));
}

TEST(SimdParallel, ConcurrentMatmulsMatchSerial) {
  const KernelTable& kt = kernels();
  auto w = test::make_matrix(DType::Q8_0, 300, 512, 3);
  auto x = test::random_floats(2 * 512, 4);
  std::vector<float> want(2 * 300);
  test::Scratch s0(kt.matmul_scratch_bytes(DType::Q8_0, 512, 2, 1));
  kt.matmul(w.view, x.data(), want.data(), 2, false, s0.ctx(1));
  std::atomic<int> mismatches{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 3; ++c)
    callers.emplace_back([&] {
      test::Scratch s(kt.matmul_scratch_bytes(DType::Q8_0, 512, 2, 2));
      std::vector<float> y(2 * 300);
      for (int rep = 0; rep < 50; ++rep) {
        kt.matmul(w.view, x.data(), y.data(), 2, false, s.ctx(2));
        if (y != want) mismatches.fetch_add(1);
      }
    });
  for (auto& t : callers) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace paw
