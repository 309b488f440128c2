// SIMD matmuls (every table this CPU runs) against the scalar reference table, on every weight
// type and on awkward shapes: partial panels (n_out 1, 3, 17, 1000), odd 32-blocks (n_in 288),
// single and multiple K-quant super-blocks, batches that take the in-place path (1, 2) and the
// panel path (7, 64), one and two threads, overwrite and accumulate. The tolerance is the
// analytic bound of the activation rounding (simd_test_util.hpp) plus F32 summation error;
// where the arithmetic is exact (integer-valued data) the results must be equal.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "ops/avx512_kernels.hpp"
#include "ops/simd.hpp"
#include "ops_test_util.hpp"
#include "paw/tensor/half.hpp"
#include "paw/util/error.hpp"
#include "simd_test_util.hpp"

namespace paw {
namespace {

using test::make_matrix;
using test::random_floats;
using test::run_matmul;
using test::Scratch;

std::vector<const KernelTable*> simd_tables() {
  std::vector<const KernelTable*> v;
  for (const KernelTable* kt : available_kernels())
    if (kt != &scalar_kernels()) v.push_back(kt);
  return v;
}

// Σ|w·x| in double, the scale of the F32 rounding error of one output.
double abs_dot(const float* w, const float* x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::fabs(static_cast<double>(w[i]) * x[i]);
  return s;
}

struct TypeCase {
  DType type;
  std::vector<int64_t> n_in;
};

class SimdMatmul : public ::testing::TestWithParam<TypeCase> {};

TEST_P(SimdMatmul, MatchesScalarWithinActivationRounding) {
  const auto tables = simd_tables();
  if (tables.empty()) GTEST_SKIP() << "no SIMD table on this CPU";
  const DType type = GetParam().type;
  for (int64_t n_in : GetParam().n_in)
    for (int64_t n_out : {1, 3, 17, 1000})
      for (int64_t T : {1, 2, 7, 64}) {
        if (n_out * T * n_in > 1000 * 64 * 288) continue;  // keep the suite fast: skip only 1000×64×512
        auto w = make_matrix(type, n_out, n_in, 1000 + n_out * 7 + n_in);
        auto x = random_floats(static_cast<size_t>(T * n_in), 77 + T);
        // One outlier per token makes the activation scale of its block large, as in real models.
        for (int64_t t = 0; t < T; ++t) x[t * n_in + (t * 13) % n_in] *= 8.0f;
        const auto ref = run_matmul(scalar_kernels(), w.view, x, T, 1, false, 0.0f);
        for (const KernelTable* kt : tables)
          for (int threads : {1, 2}) {
            SCOPED_TRACE(std::string(kt->name) + " " + std::string(dtype_name(type)) + " n_in=" + std::to_string(n_in) +
                         " n_out=" + std::to_string(n_out) + " T=" + std::to_string(T) +
                         " threads=" + std::to_string(threads));
            const auto y = run_matmul(*kt, w.view, x, T, threads, false, 123.0f);
            const auto y2 = run_matmul(*kt, w.view, x, T, threads, true, -0.5f);
            for (int64_t t = 0; t < T; ++t)
              for (int64_t o = 0; o < n_out; ++o) {
                const float* wr = &w.values[o * n_in];
                const float* xr = &x[t * n_in];
                const double tol = test::act_error_bound(*kt, type, wr, xr, n_in) + 2e-6 * (1 + abs_dot(wr, xr, n_in));
                const size_t i = static_cast<size_t>(t * n_out + o);
                ASSERT_NEAR(y[i], ref[i], tol) << "t=" << t << " o=" << o;
                ASSERT_NEAR(y2[i], ref[i] - 0.5, tol + 1e-6) << "accumulate, t=" << t << " o=" << o;
              }
          }
      }
}

INSTANTIATE_TEST_SUITE_P(
    Types, SimdMatmul,
    ::testing::Values(TypeCase{DType::F32, {7, 33, 288}}, TypeCase{DType::F16, {7, 33, 288}},
                      TypeCase{DType::BF16, {7, 33, 288}}, TypeCase{DType::Q8_0, {32, 64, 288}},
                      TypeCase{DType::Q4_0, {32, 64, 288}}, TypeCase{DType::Q4_1, {32, 64, 288}},
                      TypeCase{DType::Q5_0, {32, 64, 288}}, TypeCase{DType::Q5_1, {32, 64, 288}},
                      TypeCase{DType::Q4_K, {256, 512}}, TypeCase{DType::Q5_K, {256, 512}},
                      TypeCase{DType::Q6_K, {256, 512}}),
    [](const auto& info) { return std::string(dtype_name(info.param.type)); });

// The activation rounding bound is not slack: on a worst-case-ish input the error is a sizeable
// fraction of it (so a broken bound or a kernel that skipped the rounding would be noticed),
// and the quantized result is far closer than a 1e-2 relative error would allow.
TEST(SimdMatmul, ActivationRoundingIsWhatTheBoundDescribes) {
  for (const KernelTable* kt : simd_tables()) {
    auto w = make_matrix(DType::Q8_0, 64, 1024, 5);
    auto x = random_floats(1024, 6);
    const auto ref = run_matmul(scalar_kernels(), w.view, x, 1, 1, false, 0);
    const auto y = run_matmul(*kt, w.view, x, 1, 1, false, 0);
    double max_ratio = 0;
    for (int64_t o = 0; o < 64; ++o) {
      const double bound = test::act_error_bound(*kt, DType::Q8_0, &w.values[o * 1024], x.data(), 1024);
      max_ratio = std::max(max_ratio, std::fabs(y[o] - ref[o]) / bound);
    }
    EXPECT_GT(max_ratio, 0.02) << kt->name << ": no activation rounding visible";
    EXPECT_LE(max_ratio, 1.0) << kt->name;
  }
}

// Integer-valued data make every path exact: weights are small integers with scale 1, the
// activations of each 32-block are integers whose largest magnitude is 127 (so the int8
// rounding is the identity), and every partial sum is an integer below 2^24.
TEST(SimdMatmul, ExactOnIntegerData) {
  const int64_t n_out = 21, n_in = 288;
  std::vector<float> x(static_cast<size_t>(5 * n_in));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(static_cast<int>((i * 37) % 255) - 127);
  for (int64_t t = 0; t < 5; ++t)
    for (int64_t b = 0; b < n_in; b += 32) x[t * n_in + b + (t + b / 32) % 32] = (b / 32) % 2 ? 127.0f : -127.0f;
  for (DType type : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0}) {
    // Q8_0: levels in [-127, 127] with one ±127 per block → scale exactly 1. Q4_0: levels in
    // [-8, 7] with a −8 in every block → scale −8/−8 = 1.
    std::vector<float> wf(static_cast<size_t>(n_out * n_in));
    for (size_t i = 0; i < wf.size(); ++i) {
      const int v = static_cast<int>((i * 11 + i / 7) % 16) - 8;
      wf[i] = type == DType::Q8_0 ? static_cast<float>(v * 15) : static_cast<float>(v);
    }
    for (size_t b = 0; b < wf.size(); b += 32) wf[b + (b / 32) % 32] = type == DType::Q8_0 ? 127.0f : -8.0f;
    const size_t rb = *row_bytes(type, n_in);
    std::vector<uint8_t> bytes(rb * n_out);
    for (int64_t r = 0; r < n_out; ++r) quantize_row(type, &wf[r * n_in], bytes.data() + r * rb, n_in);
    std::vector<float> back(wf.size());
    for (int64_t r = 0; r < n_out; ++r) dequantize_row(type, bytes.data() + r * rb, &back[r * n_in], n_in);
    ASSERT_EQ(back, wf) << dtype_name(type) << ": the weights are not representable exactly";
    const MatrixView v{type, n_out, n_in, bytes.data()};
    for (const KernelTable* kt : available_kernels())
      for (int64_t T : {1, 3, 5})  // in place and panels
        for (int threads : {1, 2}) {
          const auto y = run_matmul(*kt, v, x, T, threads, false, 0);
          const std::string tag = std::string(kt->name) + " " + std::string(dtype_name(type)) + " T=" + std::to_string(T);
          ASSERT_NO_FATAL_FAILURE(test::expect_exact_products(y, wf, x, T, n_out, n_in, tag));
        }
  }
}

// On CPUs with AVX512_BF16 the avx512 table multiplies BF16 weights with vdpbf16ps; the
// widening path it would use elsewhere is checked here too, exactly as F32 arithmetic.
TEST(SimdMatmul, Avx512Bf16BothPaths) {
  if (!cpu::has_avx512()) GTEST_SKIP() << "no AVX-512";
  auto w = make_matrix(DType::BF16, 37, 100, 3);
  auto x = random_floats(5 * 100, 4);
  const auto ref = run_matmul(scalar_kernels(), w.view, x, 5, 1, false, 0);
  for (bool dot : {false, true}) {
    if (dot && !cpu::has_avx512_bf16()) continue;
    Scratch s(avx512::matmul_scratch_bytes(DType::BF16, 100, 5, 2));
    std::vector<float> y(5 * 37);
    avx512::matmul_bf16(w.view, x.data(), y.data(), 5, false, s.ctx(2), dot);
    for (int64_t t = 0; t < 5; ++t)
      for (int64_t o = 0; o < 37; ++o) {
        const float* wr = &w.values[o * 100];
        const float* xr = &x[t * 100];
        const double tol = test::act_error_bound(dot ? test::ActRounding::BF16 : test::ActRounding::None, wr, xr, 100) +
                           2e-6 * (1 + abs_dot(wr, xr, 100));
        ASSERT_NEAR(y[t * 37 + o], ref[t * 37 + o], tol) << "dot=" << dot;
      }
  }
}

// Types without a SIMD kernel and bad shapes behave as in the scalar table.
TEST(SimdMatmul, FallbacksAndErrors) {
  for (const KernelTable* kt : simd_tables()) {
    std::vector<uint8_t> bytes(292);
    const MatrixView q8k{DType::Q8_K, 1, 256, bytes.data()};
    auto x = random_floats(256, 2);
    float y = 0;
    Scratch s(1 << 16);
    EXPECT_THROW(kt->matmul(q8k, x.data(), &y, 1, false, s.ctx(1)), Error) << kt->name;
    auto w = make_matrix(DType::Q8_0, 40, 64, 1);
    Scratch tiny(16);
    std::vector<float> y2(40 * 8);
    auto x8 = random_floats(8 * 64, 3);
    EXPECT_THROW(kt->matmul(w.view, x8.data(), y2.data(), 8, false, tiny.ctx(2)), Error) << kt->name;
  }
}

// The LoRA path through a SIMD table: Q4_0 adapters of rank 64 (blocks along the rank).
TEST(SimdMatmul, LoraRank64Q4_0) {
  const int64_t n_in = 256, n_out = 96, r = 64, T = 3;
  auto a = make_matrix(DType::Q4_0, r, n_in, 8);
  auto b = make_matrix(DType::Q4_0, n_out, r, 9);
  auto x = random_floats(T * n_in, 10);
  for (const KernelTable* kt : simd_tables()) {
    std::vector<float> y_ref(T * n_out, 0.5f), y(T * n_out, 0.5f), tmp(T * r);
    const size_t need = std::max(scalar_kernels().matmul_scratch_bytes(DType::Q4_0, n_in, T, 2),
                                 scalar_kernels().matmul_scratch_bytes(DType::Q4_0, r, T, 2));
    Scratch s0(need);
    lora_apply(scalar_kernels(), a.view, b.view, 0.25f, x.data(), y_ref.data(), T, tmp.data(), s0.ctx(2));
    Scratch s(std::max(kt->matmul_scratch_bytes(DType::Q4_0, n_in, T, 2), kt->matmul_scratch_bytes(DType::Q4_0, r, T, 2)));
    lora_apply(*kt, a.view, b.view, 0.25f, x.data(), y.data(), T, tmp.data(), s.ctx(2));
    // |B·(s·A·x)| with both roundings: bounded loosely by 2 % of Σ|B|·|s·A·x| + Σ|s·B·A|·|x| terms
    for (int64_t t = 0; t < T; ++t)
      for (int64_t o = 0; o < n_out; ++o) {
        double scale_ref = 0;
        for (int64_t k = 0; k < r; ++k) {
          double ax = 0;
          for (int64_t i = 0; i < n_in; ++i) ax += std::fabs(a.values[k * n_in + i] * x[t * n_in + i]);
          scale_ref += std::fabs(b.values[o * r + k]) * 0.25 * ax;
        }
        ASSERT_NEAR(y[t * n_out + o], y_ref[t * n_out + o], 0.02 * scale_ref + 1e-5) << kt->name;
      }
  }
}

}  // namespace
}  // namespace paw
