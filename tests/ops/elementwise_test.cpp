// Norms, RoPE, activations and softmax against hand-computed values and double formulas.
#include <gtest/gtest.h>

#include <cmath>

#include "ops_test_util.hpp"

namespace paw {
namespace {

TEST(RmsNorm, HandComputed) {
  // x = [1, 2, 3, 4]: mean square 7.5; w = [1, 1, 1, 2]
  const float x[] = {1, 2, 3, 4, 0, 0, 0, 2};
  const float w[] = {1, 1, 1, 2};
  for (const KernelTable* kt : available_kernels()) {
    float y[8];
    kt->rmsnorm(x, w, y, 2, 4, 0.0f);
    const double r = 1.0 / std::sqrt(7.5);
    EXPECT_NEAR(y[0], 1 * r, 1e-6);
    EXPECT_NEAR(y[3], 8 * r, 1e-6);
    // second row: mean square 1 -> x / 1 * w
    EXPECT_NEAR(y[7], 4.0, 1e-6);
    // eps enters under the root
    kt->rmsnorm(x, w, y, 1, 4, 0.5f);
    EXPECT_NEAR(y[1], 2 / std::sqrt(8.0), 1e-6);
  }
}

TEST(LayerNorm, HandComputed) {
  // x = [1, 2, 3, 6]: mean 3, variance (4 + 1 + 0 + 9) / 4 = 3.5
  const float x[] = {1, 2, 3, 6};
  const float w[] = {1, 2, 1, 1};
  const float b[] = {0, 0.5f, 0, -1};
  for (const KernelTable* kt : available_kernels()) {
    float y[4];
    kt->layernorm(x, w, b, y, 1, 4, 1e-5f);
    const double inv = 1.0 / std::sqrt(3.5 + 1e-5);
    EXPECT_NEAR(y[0], -2 * inv, 1e-6);
    EXPECT_NEAR(y[1], -1 * inv * 2 + 0.5, 1e-6);
    EXPECT_NEAR(y[2], 0.0, 1e-6);
    EXPECT_NEAR(y[3], 3 * inv - 1, 1e-6);
  }
}

TEST(Rope, NeoxPairsHalfApart) {
  // head_dim 4: pairs (0, 2) and (1, 3); at position p, angles p·1 and p·theta^(-1/2).
  const int32_t pos[] = {0, 3};
  float c[4], s[4];
  rope_tables(pos, 2, 4, 10000.0, c, s);
  EXPECT_FLOAT_EQ(c[0], 1.0f);
  EXPECT_FLOAT_EQ(s[1], 0.0f);
  EXPECT_NEAR(c[2], std::cos(3.0), 1e-7);
  EXPECT_NEAR(s[3], std::sin(3.0 * 0.01), 1e-7);
  for (const KernelTable* kt : available_kernels()) {
    // two tokens, two heads of 4
    float x[16] = {1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, -1, 0.5f, 2, 1};
    kt->rope_neox(x, 2, 2, 4, c, s);
    // position 0 is the identity
    EXPECT_FLOAT_EQ(x[0], 1);
    EXPECT_FLOAT_EQ(x[7], 8);
    // token 1, head 0: (1, 3) by 3 rad and (2, 4) by 0.03 rad
    EXPECT_NEAR(x[8], 1 * std::cos(3.0) - 3 * std::sin(3.0), 1e-6);
    EXPECT_NEAR(x[10], 1 * std::sin(3.0) + 3 * std::cos(3.0), 1e-6);
    EXPECT_NEAR(x[9], 2 * std::cos(0.03) - 4 * std::sin(0.03), 1e-6);
    EXPECT_NEAR(x[11], 2 * std::sin(0.03) + 4 * std::cos(0.03), 1e-6);
    // token 1, head 1
    EXPECT_NEAR(x[12], -1 * std::cos(3.0) - 2 * std::sin(3.0), 1e-6);
    EXPECT_NEAR(x[15], 0.5 * std::sin(0.03) + 1 * std::cos(0.03), 1e-6);
  }
}

TEST(Rope, InterleavedPairsNeighbours) {
  // head_dim 4: pairs (0, 1) and (2, 3); at position 3, angles 3 and 3·theta^(-1/2) = 0.03.
  const int32_t pos[] = {0, 3};
  float c[4], s[4];
  rope_tables(pos, 2, 4, 10000.0, c, s);
  for (const KernelTable* kt : available_kernels()) {
    SCOPED_TRACE(kt->name);
    float x[16] = {1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, -1, 0.5f, 2, 1};
    kt->rope_interleaved(x, 2, 2, 4, c, s);
    EXPECT_FLOAT_EQ(x[0], 1);  // position 0 is the identity
    EXPECT_FLOAT_EQ(x[7], 8);
    EXPECT_NEAR(x[8], 1 * std::cos(3.0) - 2 * std::sin(3.0), 1e-6);   // (1, 2) by 3 rad
    EXPECT_NEAR(x[9], 1 * std::sin(3.0) + 2 * std::cos(3.0), 1e-6);
    EXPECT_NEAR(x[10], 3 * std::cos(0.03) - 4 * std::sin(0.03), 1e-6);  // (3, 4) by 0.03 rad
    EXPECT_NEAR(x[11], 3 * std::sin(0.03) + 4 * std::cos(0.03), 1e-6);
    EXPECT_NEAR(x[12], -1 * std::cos(3.0) - 0.5 * std::sin(3.0), 1e-6);  // token 1, head 1
    EXPECT_NEAR(x[15], 2 * std::sin(0.03) + 1 * std::cos(0.03), 1e-6);
  }
}

TEST(Activations, KnownValues) {
  const float x[] = {-3, -1, 0, 0.5f, 1, 4};
  for (const KernelTable* kt : available_kernels()) {
    float y[6];
    kt->silu(x, y, 6);
    for (int i = 0; i < 6; ++i) EXPECT_NEAR(y[i], x[i] / (1 + std::exp(-double(x[i]))), 1e-6);
    EXPECT_NEAR(y[4], 0.7310585786300049, 1e-6);
    kt->gelu(x, y, 6);
    EXPECT_NEAR(y[4], 0.8411919906082768, 1e-6);  // tanh approximation at 1
    for (int i = 0; i < 6; ++i) {
      const double v = x[i];
      EXPECT_NEAR(y[i], 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))), 1e-6);
    }
    const float u[] = {2, 2, 2, 2, 2, -1};
    kt->swiglu(x, u, y, 6);
    EXPECT_NEAR(y[4], 2 * 0.7310585786300049, 1e-6);
    EXPECT_NEAR(y[5], -4 / (1 + std::exp(-4.0)), 1e-5);
  }
}

TEST(Softmax, KnownValuesAndLargeInputs) {
  for (const KernelTable* kt : available_kernels()) {
    float x[] = {1, 2, 3};
    kt->softmax(x, 3);
    const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
    EXPECT_NEAR(x[0], std::exp(1.0) / z, 1e-7);
    EXPECT_NEAR(x[2], std::exp(3.0) / z, 1e-7);
    float big[] = {1000, 1000};  // no overflow: the max is subtracted first
    kt->softmax(big, 2);
    EXPECT_FLOAT_EQ(big[0], 0.5f);
  }
}

TEST(Elementwise, AddScaleRowsAndStore) {
  for (const KernelTable* kt : available_kernels()) {
    float a[] = {1, 2, 3, 4};
    const float b[] = {0.5f, -1};
    kt->add_rows(a, b, 2, 2);
    EXPECT_FLOAT_EQ(a[0], 1.5f);
    EXPECT_FLOAT_EQ(a[3], 3.0f);
    kt->scale(a, 2.0f, a, 4);
    EXPECT_FLOAT_EQ(a[1], 2.0f);
    float y[4];
    kt->add(a, a, y, 4);
    EXPECT_FLOAT_EQ(y[2], 4 * 3.5f);
    uint16_t h[2];
    const float v[] = {1.0f, -2.5f};
    kt->store_row(v, h, DType::F16, 2);
    EXPECT_EQ(h[0], 0x3C00);  // IEEE half 1.0
    EXPECT_EQ(h[1], 0xC100);  // -2.5
  }
}

}  // namespace
}  // namespace paw
