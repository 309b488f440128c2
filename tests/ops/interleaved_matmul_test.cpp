// Q4_0_X16 and Q8_0_X16 matmuls (16 interleaved rows, paw/tensor/interleave.hpp) on every table against
// double-precision products of the dequantized weights, on awkward shapes: a partial last
// group (rows 1, 3, 17, 200), one block per row (a LoRA B of rank 32), odd blocks (288),
// batches of 1 to 9 tokens, one and two threads, overwrite and accumulate. The SIMD tables
// round activations as for Q4_0 / Q8_0 (bound in simd_test_util.hpp); on integer data every
// table must be exact. The scalar table must give the stored type's bits: it reads the same rows.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "ops_test_util.hpp"
#include "paw/tensor/quantize.hpp"
#include "simd_test_util.hpp"

namespace paw {
namespace {

constexpr DType kLayouts[] = {DType::Q4_0_X16, DType::Q8_0_X16};

using test::make_interleaved;
using test::random_floats;
using test::run_matmul;

TEST(InterleavedMatmul, MatchesDoubleProductsOnEveryTable) {
  for (DType x16 : kLayouts)
  for (int64_t n_in : {32, 64, 288})
    for (int64_t n_out : {1, 3, 16, 17, 200})
      for (int64_t T : {1, 2, 5, 9}) {
        const auto w = make_interleaved(n_out, n_in, 500 + n_out * 3 + n_in, x16);
        auto x = random_floats(static_cast<size_t>(T * n_in), 31 + T);
        for (int64_t t = 0; t < T; ++t) x[t * n_in + (t * 7) % n_in] *= 8.0f;  // an outlier per token
        for (const KernelTable* kt : available_kernels())
          for (int threads : {1, 2}) {
            SCOPED_TRACE(std::string(dtype_name(x16)) + " " + kt->name + " n_in=" + std::to_string(n_in) + " n_out=" + std::to_string(n_out) +
                         " T=" + std::to_string(T) + " threads=" + std::to_string(threads));
            const auto y = run_matmul(*kt, w.view, x, T, threads, false, 123.0f);
            const auto y2 = run_matmul(*kt, w.view, x, T, threads, true, -0.5f);
            for (int64_t t = 0; t < T; ++t)
              for (int64_t o = 0; o < n_out; ++o) {
                const float* wr = &w.values[o * n_in];
                const float* xr = &x[t * n_in];
                double want = 0, mag = 0;
                for (int64_t i = 0; i < n_in; ++i) {
                  want += static_cast<double>(wr[i]) * xr[i];
                  mag += std::fabs(static_cast<double>(wr[i]) * xr[i]);
                }
                const double tol = test::act_error_bound(*kt, x16, wr, xr, n_in) + 2e-6 * (1 + mag);
                const size_t i = static_cast<size_t>(t * n_out + o);
                ASSERT_NEAR(y[i], want, tol) << "t=" << t << " o=" << o;
                ASSERT_NEAR(y2[i], want - 0.5, tol + 1e-6) << "accumulate, t=" << t << " o=" << o;
              }
          }
      }
}

TEST(InterleavedMatmul, ScalarTableGivesTheStoredTypesBits) {
  const int64_t n_out = 37, n_in = 96, T = 3;
  for (DType x16 : kLayouts) {
    const auto q = test::make_matrix(stored_type(x16), n_out, n_in, 9);
    std::vector<uint8_t> bytes(interleaved_bytes(x16, n_out, n_in));
    interleave(q.view, bytes.data());
    const MatrixView w{x16, n_out, n_in, bytes.data()};
    const auto x = random_floats(static_cast<size_t>(T * n_in), 4);
    for (int threads : {1, 2}) {
      const auto a = run_matmul(scalar_kernels(), q.view, x, T, threads, false, 0.0f);
      const auto b = run_matmul(scalar_kernels(), w, x, T, threads, false, 0.0f);
      EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float))) << dtype_name(x16) << " threads " << threads;
    }
  }
}

TEST(InterleavedMatmul, ExactOnIntegerData) {
  // Integer levels with the extreme level in every block (Q4_0: −8 in [-8, 7]; Q8_0: ±127 in
  // [-127, 127]), so the scale is exactly 1, and integer activations with a ±127 in every block
  // (activation scale exactly 1): no rounding anywhere, every partial sum an integer below
  // 2^24, so every table must give the exact products.
  const int64_t n_out = 35, n_in = 160;
  for (DType x16 : kLayouts) {
    const DType stored = stored_type(x16);
    const bool q8 = stored == DType::Q8_0;
    std::vector<float> wf(static_cast<size_t>(n_out * n_in));
    for (size_t i = 0; i < wf.size(); ++i)
      wf[i] = q8 ? static_cast<float>(static_cast<int>((i * 13 + i / 5) % 255) - 127)
                 : static_cast<float>(static_cast<int>((i * 13 + i / 5) % 16) - 8);
    for (size_t b = 0; b < wf.size(); b += 32) wf[b + (b / 32) % 32] = q8 ? ((b / 32) % 2 ? 127.0f : -127.0f) : -8.0f;
    const size_t rb = *row_bytes(stored, n_in);
    std::vector<uint8_t> q(rb * n_out);
    for (int64_t r = 0; r < n_out; ++r) quantize_row(stored, &wf[r * n_in], q.data() + r * rb, n_in);
    std::vector<uint8_t> bytes(interleaved_bytes(x16, n_out, n_in));
    interleave(MatrixView{stored, n_out, n_in, q.data()}, bytes.data());
    const MatrixView w{x16, n_out, n_in, bytes.data()};
    for (int64_t T : {1, 4, 6}) {
      std::vector<float> x(static_cast<size_t>(T * n_in));
      for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(static_cast<int>((i * 37) % 255) - 127);
      for (int64_t t = 0; t < T; ++t)
        for (int64_t b = 0; b < n_in; b += 32) x[t * n_in + b + (t + b / 32) % 32] = (b / 32) % 2 ? 127.0f : -127.0f;
      for (const KernelTable* kt : available_kernels())
        for (int threads : {1, 2}) {
          const auto y = run_matmul(*kt, w, x, T, threads, false, 0.0f);
          ASSERT_NO_FATAL_FAILURE(test::expect_exact_products(
              y, wf, x, T, n_out, n_in, std::string(dtype_name(x16)) + " " + kt->name + " T=" + std::to_string(T)));
        }
    }
  }
}

}  // namespace
}  // namespace paw
