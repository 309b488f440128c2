// Quantizers on inputs whose exact output bytes can be worked out by hand from ggml's
// reference rules, plus argument checking and the truthfulness of DTypeTraits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "paw/tensor/quantize.hpp"
#include "paw/util/error.hpp"
#include "tensor_test_util.hpp"

namespace paw {
namespace {

using test::get_u16;

std::vector<uint8_t> quant(DType t, const std::vector<float>& x) {
  std::vector<uint8_t> out(*row_bytes(t, static_cast<int64_t>(x.size())), 0xEE);
  quantize_row(t, x.data(), out.data(), static_cast<int64_t>(x.size()));
  return out;
}

TEST(QuantizeExact, F32F16Bf16) {
  const std::vector<float> x = {1.0f, -2.0f, 0.1f, 65520.0f, 0x1p-25f, 3.14159265f};
  const auto f32 = quant(DType::F32, x);
  EXPECT_EQ(test::get_u16(f32, 0), 0x0000);  // 1.0f = 0x3F800000, little-endian
  EXPECT_EQ(test::get_u16(f32, 2), 0x3F80);
  const auto f16 = quant(DType::F16, x);
  const uint16_t want16[] = {0x3C00, 0xC000, 0x2E66, 0x7C00, 0x0000, 0x4248};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(get_u16(f16, 2 * i), want16[i]) << i;
  const auto bf16 = quant(DType::BF16, x);
  const uint16_t want_bf[] = {0x3F80, 0xC000, 0x3DCD, 0x4780, 0x3300, 0x4049};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(get_u16(bf16, 2 * i), want_bf[i]) << i;
}

TEST(QuantizeExact, Q4_0NegativeMax) {
  // x = -8..7 twice. The largest magnitude is -8 (first occurrence), d = -8 / -8 = 1,
  // q = (int)(x + 8.5) = x + 8, so both halves hold nibbles 0..15: qs[j] = j | j << 4.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j % 16 - 8);
  const auto b = quant(DType::Q4_0, x);
  EXPECT_EQ(get_u16(b, 0), 0x3C00);
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b[2 + j], j * 17) << j;
}

TEST(QuantizeExact, Q4_0PositiveMax) {
  // x[j] = 8 - 0.5 j (8 down to -7.5): max = +8 so d = 8 / -8 = -1 (0xBC00), id = -1,
  // q = (int)(-x + 8.5) = (int)(0.5 j + 0.5) = (j + 1) / 2, clamped to 15 (j = 31 gives 16).
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = 8.0f - 0.5f * j;
  const auto b = quant(DType::Q4_0, x);
  EXPECT_EQ(get_u16(b, 0), 0xBC00);
  EXPECT_EQ(b[2], 0x80);       // q0 = 0, q16 = 8
  EXPECT_EQ(b[2 + 15], 0xF8);  // q15 = 8, q31 = 16 -> 15
  for (int j = 0; j < 16; ++j) {
    const int lo = (j + 1) / 2, hi = std::min(15, (j + 17) / 2);
    EXPECT_EQ(b[2 + j], lo | hi << 4) << j;
  }
  // Decoding gives back 8 exactly for the extreme: (0 - 8) * -1.
  std::vector<float> y(32);
  dequantize_row(DType::Q4_0, b.data(), y.data(), 32);
  EXPECT_EQ(y[0], 8.0f);
}

TEST(QuantizeExact, Q4_1) {
  // x[j] = 2 + (j % 16) * 0.25: min 2, max 5.75, d = 3.75 / 15 = 0.25, q = j % 16.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = 2.0f + (j % 16) * 0.25f;
  const auto b = quant(DType::Q4_1, x);
  EXPECT_EQ(get_u16(b, 0), 0x3400);  // d = 0.25
  EXPECT_EQ(get_u16(b, 2), 0x4000);  // m = 2
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b[4 + j], j * 17) << j;
}

TEST(QuantizeExact, Q5_0) {
  // x[j] = j - 16: max = -16, d = 1, q = j: low nibbles j % 16, 5th bit set for j >= 16.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);
  const auto b = quant(DType::Q5_0, x);
  EXPECT_EQ(get_u16(b, 0), 0x3C00);
  EXPECT_EQ(b[2], 0x00);
  EXPECT_EQ(b[3], 0x00);
  EXPECT_EQ(b[4], 0xFF);
  EXPECT_EQ(b[5], 0xFF);  // qh = 0xFFFF0000 little-endian
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b[6 + j], j * 17) << j;
}

TEST(QuantizeExact, Q5_1) {
  // x[j] = 0.5 j - 4: min -4, max 11.5, d = 15.5 / 31 = 0.5, q = j.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = 0.5f * j - 4.0f;
  const auto b = quant(DType::Q5_1, x);
  EXPECT_EQ(get_u16(b, 0), 0x3800);  // 0.5
  EXPECT_EQ(get_u16(b, 2), 0xC400);  // -4
  EXPECT_EQ(b[4], 0x00);
  EXPECT_EQ(b[5], 0x00);
  EXPECT_EQ(b[6], 0xFF);
  EXPECT_EQ(b[7], 0xFF);
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b[8 + j], j * 17) << j;
}

TEST(QuantizeExact, Q8_0IntegersAndRoundHalfAway) {
  // amax 127 -> d = 1, q = roundf(x): halves go away from zero.
  std::vector<float> x(32, 0.0f);
  const float in[] = {127, 0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 0.49f, -126.5f, 126.5f, -7};
  const int8_t want[] = {127, 1, -1, 2, 3, -3, 0, -127, 127, -7};
  for (int j = 0; j < 10; ++j) x[j] = in[j];
  const auto b = quant(DType::Q8_0, x);
  EXPECT_EQ(get_u16(b, 0), 0x3C00);
  for (int j = 0; j < 10; ++j) EXPECT_EQ(static_cast<int8_t>(b[2 + j]), want[j]) << j;
  for (int j = 10; j < 32; ++j) EXPECT_EQ(b[2 + j], 0) << j;
}

TEST(QuantizeExact, AllZeroBlocks) {
  const std::vector<float> zeros(32, 0.0f);
  // Q4_0: d = 0 / -8 = -0 (0x8000 in ggml too); every q = (int)(0 + 8.5) = 8.
  auto b = quant(DType::Q4_0, zeros);
  EXPECT_EQ(get_u16(b, 0), 0x8000);
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b[2 + j], 0x88);
  // Q5_0: d = -0, q = 16: nibbles 0, every 5th bit set.
  b = quant(DType::Q5_0, zeros);
  EXPECT_EQ(get_u16(b, 0), 0x8000);
  for (int k = 2; k < 6; ++k) EXPECT_EQ(b[k], 0xFF);
  for (int k = 6; k < 22; ++k) EXPECT_EQ(b[k], 0x00);
  // Q4_1 / Q5_1 / Q8_0: all-zero bytes.
  for (DType t : {DType::Q4_1, DType::Q5_1, DType::Q8_0}) {
    b = quant(t, zeros);
    for (size_t k = 0; k < b.size(); ++k) EXPECT_EQ(b[k], 0) << dtype_name(t) << " byte " << k;
  }
  // K-quants: an all-zero super-block decodes to exact zeros.
  const std::vector<float> zk(256, 0.0f);
  for (DType t : {DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    b = quant(t, zk);
    std::vector<float> y(256, 1.0f);
    dequantize_row(t, b.data(), y.data(), 256);
    for (float v : y) ASSERT_EQ(v, 0.0f) << dtype_name(t);
  }
}

TEST(QuantizeExact, Q8_KActivations) {
  // x = -127..126, -127, -126 (j % 254 - 127) with a few fractions: the largest magnitude is
  // -127 (first at j = 0), iscale = -127 / -127 = 1, d = 1. qs = nearest(x) with ties to
  // even (ggml's nearest_int, unlike Q8_0's roundf): 0.5 -> 0, 1.5 -> 2, -2.5 -> -2.
  std::vector<float> x(256);
  for (int j = 0; j < 256; ++j) x[j] = static_cast<float>(j % 254 - 127);
  x[1] = 0.5f;
  x[2] = 1.5f;
  x[3] = -2.5f;
  block_q8_K b{};
  quantize_row_q8_K(x.data(), &b, 256);
  EXPECT_EQ(b.d, 1.0f);
  EXPECT_EQ(b.qs[0], -127);
  EXPECT_EQ(b.qs[1], 0);
  EXPECT_EQ(b.qs[2], 2);
  EXPECT_EQ(b.qs[3], -2);
  for (int j = 4; j < 256; ++j) EXPECT_EQ(b.qs[j], j % 254 - 127) << j;
  for (int k = 0; k < 16; ++k) {
    int sum = 0;
    for (int j = 16 * k; j < 16 * k + 16; ++j) sum += b.qs[j];
    EXPECT_EQ(b.bsums[k], sum) << k;
  }
  EXPECT_EQ(b.bsums[0], -127 + 0 + 2 - 2 + (-123 - 112) * 12 / 2);  // 4..15: -123..-112

  // A positive extreme flips the sign of d: max = +63.5 -> iscale = -2, d = -0.5.
  std::vector<float> p(256, 0.0f);
  p[10] = 63.5f;
  p[11] = -1.25f;  // -1.25 * -2 = 2.5 -> 2 (ties to even)
  quantize_row_q8_K(p.data(), &b, 256);
  EXPECT_EQ(b.d, -0.5f);
  EXPECT_EQ(b.qs[10], -127);
  EXPECT_EQ(b.qs[11], 2);
  std::vector<float> y(256);
  dequantize_row_q8_K(&b, y.data(), 256);
  EXPECT_EQ(y[10], 63.5f);
  EXPECT_EQ(y[11], -1.0f);

  // All zero: d = 0 and zero sums.
  std::vector<float> z(512, 0.0f);
  block_q8_K zb[2];
  std::memset(zb, 0x5A, sizeof zb);
  quantize_row_q8_K(z.data(), zb, 512);
  for (const auto& blk : zb) {
    EXPECT_EQ(blk.d, 0.0f);
    for (int j = 0; j < 256; ++j) ASSERT_EQ(blk.qs[j], 0);
    for (int k = 0; k < 16; ++k) ASSERT_EQ(blk.bsums[k], 0);
  }
  EXPECT_THROW(quantize_row_q8_K(z.data(), zb, 100), Error);
}

TEST(QuantizeExact, RejectsBadArguments) {
  std::vector<float> x(512, 1.0f);
  std::vector<uint8_t> out(4096);
  EXPECT_THROW(quantize_row(DType::Q4_0, x.data(), out.data(), 48), Error);
  EXPECT_THROW(quantize_row(DType::Q4_K, x.data(), out.data(), 288), Error);
  EXPECT_THROW(quantize_row(DType::Q8_0, x.data(), out.data(), -1), Error);
  EXPECT_THROW(quantize_row(DType::Q2_K, x.data(), out.data(), 256), Error);
  EXPECT_THROW(quantize_row(DType::Q8_K, x.data(), out.data(), 256), Error);
  EXPECT_THROW(quantize_row(static_cast<DType>(77), x.data(), out.data(), 32), Error);
}

// NaN, Inf and out-of-range values give unspecified blocks but never undefined behaviour
// (the sanitizer build runs this), and finite neighbours in other blocks are unaffected.
TEST(QuantizeExact, NonFiniteInputsAreHandled) {
  std::mt19937 rng(11);
  auto x = test::gaussian(rng, 512);
  x[3] = std::numeric_limits<float>::quiet_NaN();
  x[40] = std::numeric_limits<float>::infinity();
  x[41] = -std::numeric_limits<float>::infinity();
  x[100] = 3e38f;
  x[101] = -3e38f;
  x[200] = 1e-40f;  // subnormal
  for (DType t : {DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                  DType::Q5_1, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    std::vector<uint8_t> q(*row_bytes(t, 512));
    quantize_row(t, x.data(), q.data(), 512);
    std::vector<float> y(512);
    dequantize_row(t, q.data(), y.data(), 512);
    // The last 32-block (legacy types) is finite, so it must decode finite.
    if (traits(t).block_size == 32) {
      for (int i = 480; i < 512; ++i) EXPECT_TRUE(std::isfinite(y[i])) << dtype_name(t);
    }
  }
  std::vector<block_q8_K> b(2);
  quantize_row_q8_K(x.data(), b.data(), 512);
}

// can_quantize / can_dequantize must say exactly what the codecs do.
TEST(QuantizeExact, TraitsAreTruthful) {
  std::mt19937 rng(3);
  const std::vector<float> x = test::gaussian(rng, 256);
  std::vector<uint8_t> buf(4096);
  std::vector<float> y(256);
  for (uint32_t id = 0; id < 64; ++id) {
    const auto tr = dtype_traits(id);
    if (!tr) continue;
    const int64_t n = 256;  // a multiple of every block size
    bool q_ok = true, d_ok = true;
    try {
      quantize_row(tr->type, x.data(), buf.data(), n);
    } catch (const Error&) {
      q_ok = false;
    }
    try {
      dequantize_row(tr->type, buf.data(), y.data(), n);
    } catch (const Error&) {
      d_ok = false;
    }
    EXPECT_EQ(q_ok, tr->can_quantize) << tr->name;
    EXPECT_EQ(d_ok, tr->can_dequantize) << tr->name;
  }
}

}  // namespace
}  // namespace paw
