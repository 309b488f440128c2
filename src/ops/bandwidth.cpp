// measure_read_bandwidth: a streaming read of 1 GiB, the decode kernels' way.
#include "paw/ops/bandwidth.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>

namespace paw {

// Streaming-read bandwidth (bytes/s) over a 1 GiB buffer with n_threads OpenMP threads: best
// of 3 passes after a touching pass. Eight independent accumulators let the compiler keep
// several loads in flight; the xor result is consumed so the loop cannot be removed. Each
// thread requests the line 4 KiB ahead, as the decode kernels do (simd_matmul.hpp,
// kPrefetchBytes): on the 2-core VM the hardware prefetchers alone leave ~20 % of the
// bandwidth unused at 2 threads, and a bound the kernels beat would bound nothing.
double measure_read_bandwidth(int n_threads) {
  const size_t n_bytes = size_t{1} << 30;
  const size_t n = n_bytes / sizeof(uint64_t);
  std::unique_ptr<uint64_t[]> buf(new uint64_t[n]);
#pragma omp parallel for num_threads(n_threads) schedule(static)
  for (size_t i = 0; i < n; ++i) buf[i] = i * 0x9E3779B97F4A7C15ull;  // first touch, per thread
  double best = 0;
  uint64_t sink = 0;
  for (int pass = 0; pass < 3; ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    uint64_t acc_all = 0;
#pragma omp parallel num_threads(n_threads) reduction(^ : acc_all)
    {
      uint64_t a[8] = {};
#pragma omp for schedule(static)
      for (size_t i = 0; i < n; i += 8) {
        __builtin_prefetch(buf.get() + i + 512, 0, 3);  // 4 KiB ahead (a hint: never faults)
        for (int k = 0; k < 8; ++k) a[k] ^= buf[i + k];
      }
      for (int k = 0; k < 8; ++k) acc_all ^= a[k];
    }
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sink ^= acc_all;
    best = std::max(best, static_cast<double>(n_bytes) / dt);
  }
  if (sink == 0x12345) std::fputc(' ', stderr);  // keeps the reads observable
  return best;
}

}  // namespace paw
