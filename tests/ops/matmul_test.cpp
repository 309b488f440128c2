// matmul and the LoRA path of every available kernel table against plain double loops over
// the reference dequantizer's values, on every weight type and on awkward shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "ops_test_util.hpp"
#include "simd_test_util.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

using test::make_matrix;
using test::random_floats;
using test::Scratch;

// y[t, o] = Σ_i W[o, i] x[t, i] in double.
std::vector<double> naive_matmul(const std::vector<float>& w, int64_t n_out, int64_t n_in,
                                 const std::vector<float>& x, int64_t n_tokens) {
  std::vector<double> y(n_tokens * n_out);
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t o = 0; o < n_out; ++o) {
      double s = 0;
      for (int64_t i = 0; i < n_in; ++i) s += static_cast<double>(w[o * n_in + i]) * x[t * n_in + i];
      y[t * n_out + o] = s;
    }
  return y;
}

struct MatmulCase {
  DType type;
  int64_t n_out, n_in, n_tokens;
};

class MatmulAllTypes : public ::testing::TestWithParam<DType> {};

TEST_P(MatmulAllTypes, MatchesDoubleLoopsOnAwkwardShapes) {
  const DType type = GetParam();
  const int64_t block = traits(type).block_size;
  const int64_t n_in_list[] = {block == 1 ? 7 : block, block == 1 ? 64 : 2 * block};
  for (const KernelTable* kt : available_kernels()) {
    for (int64_t n_in : n_in_list)
      for (int64_t n_out : {1, 3, 37})
        for (int64_t n_tokens : {1, 2, 5})
          for (int threads : {1, 3}) {
            SCOPED_TRACE(std::string(kt->name) + " " + std::string(dtype_name(type)) + " n_out=" +
                         std::to_string(n_out) + " n_in=" + std::to_string(n_in) + " T=" + std::to_string(n_tokens) +
                         " threads=" + std::to_string(threads));
            auto w = make_matrix(type, n_out, n_in, 11 + n_out + n_in);
            auto x = random_floats(n_tokens * n_in, 99 + n_tokens);
            Scratch s(kt->matmul_scratch_bytes(type, n_in, n_tokens, threads));
            std::vector<float> y(n_tokens * n_out, 123.0f);  // overwritten (accumulate=false)
            kt->matmul(w.view, x.data(), y.data(), n_tokens, false, s.ctx(threads));
            auto ref = naive_matmul(w.values, n_out, n_in, x, n_tokens);
            // SIMD tables round activations like llama.cpp: add that bound (simd_test_util.hpp).
            auto tol = [&](size_t i) {
              const int64_t t = static_cast<int64_t>(i) / n_out, o = static_cast<int64_t>(i) % n_out;
              return 1e-4 * (1 + std::abs(ref[i])) +
                     test::act_error_bound(*kt, type, &w.values[o * n_in], &x[t * n_in], n_in);
            };
            for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], ref[i], tol(i)) << i;
            // accumulate adds onto what is there
            std::vector<float> y2(n_tokens * n_out, 1.5f);
            kt->matmul(w.view, x.data(), y2.data(), n_tokens, true, s.ctx(threads));
            for (size_t i = 0; i < y2.size(); ++i) ASSERT_NEAR(y2[i], ref[i] + 1.5, tol(i)) << i;
          }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, MatmulAllTypes,
                         ::testing::Values(DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_1,
                                           DType::Q5_0, DType::Q5_1, DType::Q4_K, DType::Q5_K, DType::Q6_K),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST(Matmul, HandComputed) {
  // W = [[1, 2], [3, 4], [-1, 0.5]], x = [[1, 1], [2, -1]]  ->  y = [[3, 7, -0.5], [0, 2, -2.5]]
  const float w[] = {1, 2, 3, 4, -1, 0.5f};
  const float x[] = {1, 1, 2, -1};
  MatrixView v{DType::F32, 3, 2, reinterpret_cast<const uint8_t*>(w)};
  for (const KernelTable* kt : available_kernels()) {
    Scratch s(kt->matmul_scratch_bytes(DType::F32, 2, 2, 1));
    float y[6];
    kt->matmul(v, x, y, 2, false, s.ctx(1));
    const float want[] = {3, 7, -0.5f, 0, 2, -2.5f};
    for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(y[i], want[i]) << kt->name << " " << i;
  }
}

TEST(Matmul, UnalignedF32WeightsAreReadSafely) {
  for (const KernelTable* kt : available_kernels()) {
    auto w = make_matrix(DType::F32, 5, 16, 3, /*misalign=*/2);
    auto x = random_floats(16, 4);
    Scratch s(kt->matmul_scratch_bytes(DType::F32, 16, 1, 1));
    std::vector<float> y(5);
    kt->matmul(w.view, x.data(), y.data(), 1, false, s.ctx(1));
    auto ref = naive_matmul(w.values, 5, 16, x, 1);
    for (int i = 0; i < 5; ++i) EXPECT_NEAR(y[i], ref[i], 1e-5);
  }
}

TEST(Matmul, ScratchTooSmallIsAnError) {
  auto w = make_matrix(DType::Q8_0, 4, 64, 1);
  auto x = random_floats(64, 2);
  std::vector<float> y(4);
  Scratch s(16);
  EXPECT_THROW(scalar_kernels().matmul(w.view, x.data(), y.data(), 1, false, s.ctx(1)), Error);
}

TEST(Matmul, UnsupportedTypeIsAnError) {
  std::vector<uint8_t> bytes(292);
  MatrixView v{DType::Q8_K, 1, 256, bytes.data()};
  auto x = random_floats(256, 2);
  float y;
  Scratch s(1 << 16);
  EXPECT_THROW(scalar_kernels().matmul(v, x.data(), &y, 1, false, s.ctx(1)), Error);
}

TEST(Lora, ApplyMatchesDoubleLoops) {
  // y += scale · B (A x), A: [r, n_in], B: [n_out, r]
  for (const KernelTable* kt : available_kernels())
    for (DType type : {DType::F32, DType::Q4_0, DType::Q8_0}) {
      const int64_t n_in = 64, n_out = 48, r = 32, T = 3;
      auto a = make_matrix(type, r, n_in, 5);
      auto b = make_matrix(type, n_out, r, 6);
      auto x = random_floats(T * n_in, 7);
      std::vector<float> y(T * n_out, 0.25f), tmp(T * r);
      const size_t need = std::max(kt->matmul_scratch_bytes(type, n_in, T, 2), kt->matmul_scratch_bytes(type, r, T, 2));
      Scratch s(need);
      lora_apply(*kt, a.view, b.view, 0.75f, x.data(), y.data(), T, tmp.data(), s.ctx(2));
      auto ax = naive_matmul(a.values, r, n_in, x, T);
      std::vector<float> axf(ax.begin(), ax.end());
      auto bax = naive_matmul(b.values, n_out, r, axf, T);
      // Activation rounding in SIMD tables (simd_test_util.hpp): A·x moves by at most eA[r];
      // B then sees 0.75·(A·x + e), itself rounded before the product.
      std::vector<double> ea(T * r);
      for (int64_t t = 0; t < T; ++t)
        for (int64_t k = 0; k < r; ++k)
          ea[t * r + k] = test::act_error_bound(*kt, type, &a.values[k * n_in], &x[t * n_in], n_in);
      for (size_t i = 0; i < y.size(); ++i) {
        const int64_t t = static_cast<int64_t>(i) / n_out, o = static_cast<int64_t>(i) % n_out;
        std::vector<float> tmp_ref(r);
        double prop = 0;
        for (int64_t k = 0; k < r; ++k) {
          prop += std::abs(b.values[o * r + k]) * 0.75 * ea[t * r + k];
          tmp_ref[k] = static_cast<float>(0.75 * (ax[t * r + k] + (ax[t * r + k] >= 0 ? ea[t * r + k] : -ea[t * r + k])));
        }
        const double eb = test::act_error_bound(*kt, type, &b.values[o * r], tmp_ref.data(), r);
        ASSERT_NEAR(y[i], 0.25 + 0.75 * bax[i], 1e-4 * (1 + std::abs(bax[i])) + prop + eb)
            << kt->name << " " << dtype_name(type);
      }
    }
}

TEST(Lora, RankMismatchIsAnError) {
  auto a = make_matrix(DType::F32, 4, 8, 1);
  auto b = make_matrix(DType::F32, 8, 5, 2);
  std::vector<float> x(8), y(8), tmp(4);
  Scratch s(1 << 12);
  EXPECT_THROW(lora_apply(scalar_kernels(), a.view, b.view, 1.0f, x.data(), y.data(), 1, tmp.data(), s.ctx(1)), Error);
}

}  // namespace
}  // namespace paw
