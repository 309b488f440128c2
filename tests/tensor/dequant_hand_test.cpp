// Hand-built blocks for every dequantized type: bytes written per the published ggml layout,
// expected values worked out by hand (spot values spelled out as literals; the rest follow
// the layout rule stated next to each loop). Scales are powers of two so every expected
// value is exact.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "paw/tensor/blocks.hpp"
#include "paw/tensor/quantize.hpp"
#include "paw/util/error.hpp"
#include "tensor_test_util.hpp"

namespace paw {
namespace {

using test::put_u16;
using test::put_u32;

std::vector<float> deq(DType t, const std::vector<uint8_t>& bytes, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n), -12345.0f);
  dequantize_row(t, bytes.data(), out.data(), n);
  return out;
}

TEST(DequantHand, F32F16Bf16) {
  std::vector<uint8_t> f32(8);
  put_u32(f32, 0, 0x3F800000u);  // 1.0
  put_u32(f32, 4, 0xC0490FDBu);  // -3.14159274
  auto y = deq(DType::F32, f32, 2);
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], -3.14159274f);

  std::vector<uint8_t> f16(10);
  put_u16(f16, 0, 0x3C00);  // 1
  put_u16(f16, 2, 0xC000);  // -2
  put_u16(f16, 4, 0x3555);  // 0.333251953125
  put_u16(f16, 6, 0x0001);  // 2^-24
  put_u16(f16, 8, 0x7C00);  // +Inf
  y = deq(DType::F16, f16, 5);
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], -2.0f);
  EXPECT_EQ(y[2], 0.333251953125f);
  EXPECT_EQ(y[3], 5.9604644775390625e-08f);
  EXPECT_EQ(y[4], std::numeric_limits<float>::infinity());

  std::vector<uint8_t> bf16(6);
  put_u16(bf16, 0, 0x3F80);  // 1
  put_u16(bf16, 2, 0xC049);  // -3.140625
  put_u16(bf16, 4, 0x4780);  // 65536
  y = deq(DType::BF16, bf16, 3);
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], -3.140625f);
  EXPECT_EQ(y[2], 65536.0f);
}

TEST(DequantHand, UnalignedF16Source) {
  // Plain rows may start at any byte (e.g. inside a larger buffer).
  std::vector<uint8_t> buf(7);
  put_u16(buf, 1, 0x3800);  // 0.5
  put_u16(buf, 3, 0xB800);  // -0.5
  put_u16(buf, 5, 0x4400);  // 4
  float y[3];
  dequantize_row(DType::F16, buf.data() + 1, y, 3);
  EXPECT_EQ(y[0], 0.5f);
  EXPECT_EQ(y[1], -0.5f);
  EXPECT_EQ(y[2], 4.0f);
}

TEST(DequantHand, Q8_0) {
  // d = 0.5 (0x3800); qs[j] = j - 16 -> y[j] = (j - 16) * 0.5.
  std::vector<uint8_t> b(34);
  put_u16(b, 0, 0x3800);
  for (int j = 0; j < 32; ++j) b[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(j - 16));
  b[2 + 31] = 0x80;  // -128 is a legal int8 too: -64
  const auto y = deq(DType::Q8_0, b, 32);
  EXPECT_EQ(y[0], -8.0f);
  EXPECT_EQ(y[16], 0.0f);
  EXPECT_EQ(y[30], 7.0f);
  EXPECT_EQ(y[31], -64.0f);
  for (int j = 0; j < 31; ++j) EXPECT_EQ(y[j], (j - 16) * 0.5f) << j;
}

TEST(DequantHand, Q4_0) {
  // d = 0.5; qs[j] = low nibble j, high nibble 15 - j. Element j (< 16) = (j - 8) * 0.5,
  // element j + 16 = (15 - j - 8) * 0.5.
  std::vector<uint8_t> b(18);
  put_u16(b, 0, 0x3800);
  for (int j = 0; j < 16; ++j) b[2 + j] = static_cast<uint8_t>(j | (15 - j) << 4);
  const auto y = deq(DType::Q4_0, b, 32);
  EXPECT_EQ(y[0], -4.0f);   // nibble 0
  EXPECT_EQ(y[15], 3.5f);   // nibble 15
  EXPECT_EQ(y[16], 3.5f);   // high nibble of qs[0] = 15
  EXPECT_EQ(y[31], -4.0f);  // high nibble of qs[15] = 0
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], (j - 8) * 0.5f) << j;
    EXPECT_EQ(y[j + 16], (7 - j) * 0.5f) << j;
  }
}

TEST(DequantHand, Q4_0TwoBlocksNegativeScale) {
  // Second block has d = -2 (0xC000): the sign of d flips every value.
  std::vector<uint8_t> b(36);
  put_u16(b, 0, 0x3C00);  // d = 1
  put_u16(b, 18, 0xC000);  // d = -2
  for (int j = 0; j < 16; ++j) {
    b[2 + j] = 0x98;   // low 8 -> 0, high 9 -> 1
    b[20 + j] = 0x0F;  // low 15 -> 7 * -2 = -14, high 0 -> -8 * -2 = 16
  }
  const auto y = deq(DType::Q4_0, b, 64);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 0.0f);
    EXPECT_EQ(y[j + 16], 1.0f);
    EXPECT_EQ(y[32 + j], -14.0f);
    EXPECT_EQ(y[48 + j], 16.0f);
  }
}

TEST(DequantHand, Q4_1) {
  // d = 0.25 (0x3400), m = -1 (0xBC00): y = q * 0.25 - 1. qs[j] = j | (15 - j) << 4.
  std::vector<uint8_t> b(20);
  put_u16(b, 0, 0x3400);
  put_u16(b, 2, 0xBC00);
  for (int j = 0; j < 16; ++j) b[4 + j] = static_cast<uint8_t>(j | (15 - j) << 4);
  const auto y = deq(DType::Q4_1, b, 32);
  EXPECT_EQ(y[0], -1.0f);
  EXPECT_EQ(y[4], 0.0f);
  EXPECT_EQ(y[15], 2.75f);
  EXPECT_EQ(y[16], 2.75f);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], j * 0.25f - 1.0f) << j;
    EXPECT_EQ(y[j + 16], (15 - j) * 0.25f - 1.0f) << j;
  }
}

TEST(DequantHand, Q5_0) {
  // d = 0.5; qh = 0x8000'0001 | 0x0000'5550: bit k is the 5th bit of element k.
  // qs[j] = j | (15 - j) << 4 as before. Element k = ((nibble) | bit_k << 4) - 16, times 0.5.
  std::vector<uint8_t> b(22);
  put_u16(b, 0, 0x3800);
  const uint32_t qh = 0x80000001u | 0x00005550u;
  put_u32(b, 2, qh);
  for (int j = 0; j < 16; ++j) b[6 + j] = static_cast<uint8_t>(j | (15 - j) << 4);
  const auto y = deq(DType::Q5_0, b, 32);
  EXPECT_EQ(y[0], 0.0f);    // nibble 0 | 16 -> 16 - 16 = 0
  EXPECT_EQ(y[1], -7.5f);   // nibble 1, no high bit: 1 - 16 = -15
  EXPECT_EQ(y[4], 2.0f);    // nibble 4 | 16 (bit 4 of 0x5550 is set) -> 20 - 16 = 4
  EXPECT_EQ(y[16], -0.5f);  // nibble 15, bit 16 clear: -1
  EXPECT_EQ(y[31], 0.0f);   // nibble 15 - 15 = 0, bit 31 set -> 16 - 16 = 0
  for (int k = 0; k < 32; ++k) {
    const int nib = k < 16 ? k : 15 - (k - 16);
    const int q = nib | static_cast<int>((qh >> k) & 1) << 4;
    EXPECT_EQ(y[k], (q - 16) * 0.5f) << k;
  }
}

TEST(DequantHand, Q5_1) {
  // d = 0.25, m = 2 (0x4000): y = q * 0.25 + 2, q = nibble | bit_k << 4.
  std::vector<uint8_t> b(24);
  put_u16(b, 0, 0x3400);
  put_u16(b, 2, 0x4000);
  const uint32_t qh = 0xFFFF0000u;  // 5th bit set exactly for the upper 16 elements
  put_u32(b, 4, qh);
  for (int j = 0; j < 16; ++j) b[8 + j] = static_cast<uint8_t>(j | j << 4);
  const auto y = deq(DType::Q5_1, b, 32);
  EXPECT_EQ(y[0], 2.0f);
  EXPECT_EQ(y[15], 5.75f);   // 15 * 0.25 + 2
  EXPECT_EQ(y[16], 6.0f);    // (0 | 16) * 0.25 + 2
  EXPECT_EQ(y[31], 9.75f);   // 31 * 0.25 + 2
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], j * 0.25f + 2.0f) << j;
    EXPECT_EQ(y[j + 16], (j + 16) * 0.25f + 2.0f) << j;
  }
}

// Scales / mins used for both Q4_K and Q5_K, and their packing worked out by hand:
//   sc = {1, 2, 3, 63, 17, 32, 48, 5},  m = {0, 1, 62, 7, 33, 16, 63, 9}
//   bytes 0-3  = sc[0..3] | (sc[4..7] >> 4) << 6 = 1|1<<6, 2|2<<6, 3|3<<6, 63|0<<6
//   bytes 4-7  = m[0..3]  | (m[4..7]  >> 4) << 6 = 0|2<<6, 1|1<<6, 62|3<<6, 7|0<<6
//   bytes 8-11 = (sc[4..7] & 15) | (m[4..7] & 15) << 4 = 1|1<<4, 0|0<<4, 0|15<<4, 5|9<<4
constexpr uint8_t kPackedScales[12] = {0x41, 0x82, 0xC3, 0x3F, 0x80, 0x41,
                                       0xFE, 0x07, 0x11, 0x00, 0xF0, 0x95};
constexpr int kSc[8] = {1, 2, 3, 63, 17, 32, 48, 5};
constexpr int kMin[8] = {0, 1, 62, 7, 33, 16, 63, 9};

TEST(DequantHand, GetScaleMinK4) {
  for (int j = 0; j < 8; ++j) {
    uint8_t sc = 0, m = 0;
    get_scale_min_k4(j, kPackedScales, &sc, &m);
    EXPECT_EQ(sc, kSc[j]) << j;
    EXPECT_EQ(m, kMin[j]) << j;
  }
}

TEST(DequantHand, Q4_K) {
  // d = 0.5, dmin = 0.25; qs[b] = b * 7 mod 256. Element e: chunk c = e / 64, r = e % 64;
  // q = low nibble of qs[32c + r % 32] if r < 32 else its high nibble; sub-block s = e / 32;
  // y = 0.5 * sc[s] * q - 0.25 * m[s].
  std::vector<uint8_t> b(144);
  put_u16(b, 0, 0x3800);
  put_u16(b, 2, 0x3400);
  std::memcpy(&b[4], kPackedScales, 12);
  for (int k = 0; k < 128; ++k) b[16 + k] = static_cast<uint8_t>(k * 7);
  const auto y = deq(DType::Q4_K, b, 256);
  // Spot values: qs[0] = 0x00, qs[1] = 0x07, qs[3] = 0x15, qs[96] = 0xA0 (672 mod 256).
  EXPECT_EQ(y[0], 0.0f);           // s0: 0.5*1*0 - 0
  EXPECT_EQ(y[1], 3.5f);           // s0: 0.5*1*7 - 0
  EXPECT_EQ(y[35], 0.75f);         // s1 (sc 2, m 1): high nibble of qs[3] = 1: 1 - 0.25
  EXPECT_EQ(y[192], 0.0f - 15.75f);   // s6 (sc 48, m 63): low nibble of qs[96] = 0
  EXPECT_EQ(y[224], 22.75f);          // s7 (sc 5, m 9): high nibble of qs[96] = 10: 25 - 2.25
  for (int e = 0; e < 256; ++e) {
    const int c = e / 64, r = e % 64, s = e / 32;
    const uint8_t byte = b[16 + 32 * c + r % 32];
    const int q = r < 32 ? (byte & 0xF) : (byte >> 4);
    EXPECT_EQ(y[e], 0.5f * kSc[s] * q - 0.25f * kMin[s]) << e;
  }
}

TEST(DequantHand, Q5_K) {
  // As Q4_K, plus qh[l] = l * 37 mod 256: element e takes bit (e / 32) of qh[e % 32] as its
  // 5th bit. d = 0.5, dmin = 0.25.
  std::vector<uint8_t> b(176);
  put_u16(b, 0, 0x3800);
  put_u16(b, 2, 0x3400);
  std::memcpy(&b[4], kPackedScales, 12);
  for (int l = 0; l < 32; ++l) b[16 + l] = static_cast<uint8_t>(l * 37);
  for (int k = 0; k < 128; ++k) b[48 + k] = static_cast<uint8_t>(k * 7);
  const auto y = deq(DType::Q5_K, b, 256);
  // Spot: e = 1: low nibble of qs[1] = 7, qh[1] = 37 = 0b00100101, bit 0 set -> q = 23:
  // 0.5 * 1 * 23 - 0 = 11.5.
  EXPECT_EQ(y[1], 11.5f);
  // e = 33: high nibble of qs[1] = 0, bit 1 of qh[1] clear -> q = 0: -0.25 * 1.
  EXPECT_EQ(y[33], -0.25f);
  // e = 161 (chunk 2, r = 33, sub-block 5: sc 32, m 16): high nibble of qs[65]
  // (455 mod 256 = 0xC7) = 12, bit 5 of qh[1] = 1 -> q = 28: 0.5 * 32 * 28 - 0.25 * 16 = 444.
  EXPECT_EQ(y[161], 444.0f);
  for (int e = 0; e < 256; ++e) {
    const int c = e / 64, r = e % 64, s = e / 32;
    const uint8_t byte = b[48 + 32 * c + r % 32];
    const int lo = r < 32 ? (byte & 0xF) : (byte >> 4);
    const int hi = (b[16 + e % 32] >> s) & 1;
    EXPECT_EQ(y[e], 0.5f * kSc[s] * (lo | hi << 4) - 0.25f * kMin[s]) << e;
  }
}

TEST(DequantHand, Q6_K) {
  // d = 0.5 at byte 208; scales (int8) = {1,-1,2,-2,4,-4,8,-8,16,-16,32,-32,64,-64,127,-128}.
  // ql[k] = k * 11 mod 256, qh[k] = k * 29 mod 256.
  // Element e: h = e / 128, r = e % 128, g = r / 32, l = r % 32;
  //   low 4 bits = ql[64h + l + 32(g % 2)] (low nibble for g < 2, high for g >= 2)
  //   high 2 bits = bits 2g, 2g+1 of qh[32h + l]; scale = scales[8h + l / 16 + 2g]
  //   y = 0.5 * scale * (q - 32).
  const int8_t sc[16] = {1, -1, 2, -2, 4, -4, 8, -8, 16, -16, 32, -32, 64, -64, 127, -128};
  std::vector<uint8_t> b(210);
  for (int k = 0; k < 128; ++k) b[k] = static_cast<uint8_t>(k * 11);
  for (int k = 0; k < 64; ++k) b[128 + k] = static_cast<uint8_t>(k * 29);
  for (int k = 0; k < 16; ++k) b[192 + k] = static_cast<uint8_t>(sc[k]);
  put_u16(b, 208, 0x3800);
  const auto y = deq(DType::Q6_K, b, 256);
  // e = 0: ql[0] = 0 low nibble 0, qh[0] = 0 -> q = 0: 0.5 * 1 * -32 = -16.
  EXPECT_EQ(y[0], -16.0f);
  // e = 1: ql[1] = 11 -> 0xB, qh[1] = 29 = 0b00011101, bits 0-1 = 01 -> q = 0x1B = 27:
  // 0.5 * 1 * (27 - 32) = -2.5.
  EXPECT_EQ(y[1], -2.5f);
  // e = 97 (g = 3, l = 1): ql[33] = 363 mod 256 = 0x6B, high nibble 6; qh[1] bits 6-7 = 00
  // -> q = 6; scale = scales[0 + 0 + 6] = 8: 0.5 * 8 * (6 - 32) = -104.
  EXPECT_EQ(y[97], -104.0f);
  // e = 255 (h = 1, g = 3, l = 31): ql[64 + 31 + 32] = ql[127] = 1397 mod 256 = 0x75, high
  // nibble 7; qh[63] = 1827 mod 256 = 0x23, bits 6-7 = 00 -> q = 7; scale = scales[8+1+6] =
  // -128: 0.5 * -128 * (7 - 32) = 1600.
  EXPECT_EQ(y[255], 1600.0f);
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, r = e % 128, g = r / 32, l = r % 32;
    const uint8_t lb = b[64 * h + l + 32 * (g % 2)];
    const int lo = g < 2 ? (lb & 0xF) : (lb >> 4);
    const int hi = (b[128 + 32 * h + l] >> (2 * g)) & 3;
    const int scale = sc[8 * h + l / 16 + 2 * g];
    EXPECT_EQ(y[e], 0.5f * scale * ((lo | hi << 4) - 32)) << e;
  }
}

TEST(DequantHand, RejectsPartialBlocksAndUnsupportedTypes) {
  std::vector<uint8_t> b(1024);
  std::vector<float> y(512);
  EXPECT_THROW(dequantize_row(DType::Q4_0, b.data(), y.data(), 31), Error);
  EXPECT_THROW(dequantize_row(DType::Q6_K, b.data(), y.data(), 128), Error);
  EXPECT_THROW(dequantize_row(DType::Q8_0, b.data(), y.data(), -32), Error);
  EXPECT_THROW(dequantize_row(DType::Q2_K, b.data(), y.data(), 256), Error);
  EXPECT_THROW(dequantize_row(DType::I32, b.data(), y.data(), 4), Error);
  EXPECT_THROW(dequantize_row(static_cast<DType>(99), b.data(), y.data(), 4), Error);
  try {
    dequantize_row(DType::Q4_K, b.data(), y.data(), 100);
    FAIL() << "expected paw::Error";
  } catch (const Error& e) {
    EXPECT_NE(e.what_failed().find("100"), std::string::npos) << e.what_failed();
    EXPECT_NE(e.where().find("q4_K"), std::string::npos) << e.where();
    EXPECT_FALSE(e.hint().empty());
  }
  dequantize_row(DType::Q4_0, b.data(), y.data(), 0);  // an empty row is fine
}

}  // namespace
}  // namespace paw
