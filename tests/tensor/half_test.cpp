// f16 / bf16 conversions: hand-checked special values, exhaustive checks over all 65536
// 16-bit patterns against an independent formula, and f32 -> f16 / bf16 rounding of tricky
// values against numpy's float16 and torch's bfloat16.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "paw/tensor/half.hpp"
#include "tensor_test_util.hpp"
#include "common/test_env.hpp"

namespace paw {
namespace {

using test::bits_of;
using test::float_of;

bool is_f16_nan(uint16_t h) { return (h & 0x7C00) == 0x7C00 && (h & 0x03FF) != 0; }
bool is_bf16_nan(uint16_t h) { return (h & 0x7F80) == 0x7F80 && (h & 0x007F) != 0; }

TEST(Half, F16ToF32SpecialValues) {
  EXPECT_EQ(bits_of(f16_to_f32(0x0000)), 0x00000000u);  // +0
  EXPECT_EQ(bits_of(f16_to_f32(0x8000)), 0x80000000u);  // -0 keeps its sign
  EXPECT_EQ(f16_to_f32(0x3C00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xC000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x3800), 0.5f);
  EXPECT_EQ(f16_to_f32(0x3555), 0.333251953125f);       // 1365/4096
  EXPECT_EQ(f16_to_f32(0x3BFF), 0.99951171875f);        // 1 - 2^-11
  EXPECT_EQ(f16_to_f32(0x7BFF), 65504.0f);              // largest finite half
  EXPECT_EQ(f16_to_f32(0x0400), 6.103515625e-05f);      // 2^-14, least normal
  EXPECT_EQ(f16_to_f32(0x03FF), 6.097555160522461e-05f);  // 1023 * 2^-24, largest subnormal
  EXPECT_EQ(f16_to_f32(0x0001), 5.9604644775390625e-08f);  // 2^-24, least subnormal
  EXPECT_EQ(f16_to_f32(0x8001), -5.9604644775390625e-08f);
  EXPECT_EQ(f16_to_f32(0x7C00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(f16_to_f32(0xFC00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7E00)));
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7C01)));  // signalling NaN stays a NaN (quietened)
  EXPECT_EQ(bits_of(f16_to_f32(0x7C01)) & 0x00400000u, 0x00400000u);
  EXPECT_TRUE(std::signbit(f16_to_f32(0xFE00)));
}

TEST(Half, F32ToF16SpecialValuesAndRounding) {
  EXPECT_EQ(f32_to_f16(0.0f), 0x0000);
  EXPECT_EQ(f32_to_f16(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_f16(1.0f), 0x3C00);
  EXPECT_EQ(f32_to_f16(-2.0f), 0xC000);
  EXPECT_EQ(f32_to_f16(0.1f), 0x2E66);  // 1.6 * 2^-4: mantissa 614.4 -> 614
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7BFF);
  EXPECT_EQ(f32_to_f16(65519.996f), 0x7BFF);  // just below the half-way point to 65536
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7C00);    // tie: 65504 has an odd mantissa -> Inf
  EXPECT_EQ(f32_to_f16(1e10f), 0x7C00);
  EXPECT_EQ(f32_to_f16(-1e10f), 0xFC00);
  EXPECT_EQ(f32_to_f16(FLT_MAX), 0x7C00);
  EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::infinity()), 0x7C00);
  EXPECT_EQ(f32_to_f16(-std::numeric_limits<float>::infinity()), 0xFC00);
  // Ties to even among normals: 1 + 2^-11 is half way between 0x3C00 and 0x3C01.
  EXPECT_EQ(f32_to_f16(1.0f + 0x1p-11f), 0x3C00);
  EXPECT_EQ(f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3C02);       // between 0x3C01 and 0x3C02
  EXPECT_EQ(f32_to_f16(1.0f + 0x1p-11f + 0x1p-23f), 0x3C01);  // just above the tie
  // Subnormal results: units of 2^-24.
  EXPECT_EQ(f32_to_f16(0x1p-24f), 0x0001);
  EXPECT_EQ(f32_to_f16(0x1p-25f), 0x0000);  // exactly half the least subnormal: ties to 0
  EXPECT_EQ(f32_to_f16(float_of(0x33000001u)), 0x0001);  // just above that tie
  EXPECT_EQ(f32_to_f16(3 * 0x1p-25f), 0x0002);            // 1.5 units: tie to even 2
  EXPECT_EQ(f32_to_f16(5 * 0x1p-25f), 0x0002);            // 2.5 units: tie to even 2
  EXPECT_EQ(f32_to_f16(-0x1p-24f), 0x8001);
  EXPECT_EQ(f32_to_f16(1e-30f), 0x0000);
  EXPECT_EQ(f32_to_f16(-1e-30f), 0x8000);
  EXPECT_EQ(f32_to_f16(1023.5f * 0x1p-24f), 0x0400);  // tie at the top of the subnormals: up
  EXPECT_EQ(f32_to_f16(0x1p-14f), 0x0400);
  // NaN becomes ggml's canonical quiet NaN, keeping the sign.
  EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::quiet_NaN()), 0x7E00);
  EXPECT_EQ(f32_to_f16(float_of(0x7F800001u)), 0x7E00);  // NaN with payload in low bits only
  EXPECT_EQ(f32_to_f16(float_of(0xFFC00000u)), 0xFE00);
}

TEST(Half, Bf16SpecialValuesAndRounding) {
  EXPECT_EQ(bf16_to_f32(0x3F80), 1.0f);
  EXPECT_EQ(bf16_to_f32(0x3F81), 1.0078125f);
  EXPECT_EQ(bf16_to_f32(0xC049), -3.140625f);
  EXPECT_EQ(bits_of(bf16_to_f32(0x8000)), 0x80000000u);
  EXPECT_EQ(bf16_to_f32(0x7F80), std::numeric_limits<float>::infinity());
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(f32_to_bf16(3.14159265f), 0x4049);             // 0x40490FDB rounds down
  EXPECT_EQ(f32_to_bf16(1.0f + 0x1p-8f), 0x3F80);          // tie -> even
  EXPECT_EQ(f32_to_bf16(1.0f + 3 * 0x1p-8f), 0x3F82);      // tie -> even (up)
  EXPECT_EQ(f32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f), 0x3F81);
  EXPECT_EQ(f32_to_bf16(FLT_MAX), 0x7F80);                 // rounds up to Inf
  EXPECT_EQ(f32_to_bf16(-std::numeric_limits<float>::infinity()), 0xFF80);
  EXPECT_EQ(f32_to_bf16(-0.0f), 0x8000);
  // Subnormals round like everything else (no flush to zero).
  EXPECT_EQ(f32_to_bf16(float_of(0x00000001u)), 0x0000);
  EXPECT_EQ(f32_to_bf16(float_of(0x00008000u)), 0x0000);  // tie, even
  EXPECT_EQ(f32_to_bf16(float_of(0x00018000u)), 0x0002);  // tie, odd -> up
  EXPECT_EQ(f32_to_bf16(float_of(0x00010000u)), 0x0001);
  // NaN: truncated with the quiet bit forced, so a low-payload NaN does not become Inf.
  EXPECT_EQ(f32_to_bf16(float_of(0x7F800001u)), 0x7FC0);
  EXPECT_EQ(f32_to_bf16(float_of(0xFFC00000u)), 0xFFC0);
  EXPECT_EQ(f32_to_bf16(float_of(0x7FA12345u)), 0x7FE1);
}

// Every f16 pattern decodes to the value the IEEE formula gives, and encodes back to itself.
TEST(Half, AllF16PatternsDecodeAndRoundTrip) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const auto hb = static_cast<uint16_t>(h);
    const float f = f16_to_f32(hb);
    const int sign = (h >> 15) ? -1 : 1;
    const int exp = (h >> 10) & 0x1F;
    const int mant = h & 0x3FF;
    if (exp == 0x1F) {
      if (mant == 0) {
        EXPECT_EQ(f, sign * std::numeric_limits<float>::infinity()) << h;
      } else {
        EXPECT_TRUE(std::isnan(f)) << h;
        EXPECT_TRUE(is_f16_nan(f32_to_f16(f))) << h;
        EXPECT_EQ(std::signbit(f), sign < 0) << h;
      }
      if (mant != 0) continue;
    } else {
      const double expect = exp == 0 ? sign * std::ldexp(double(mant), -24)
                                     : sign * std::ldexp(double(1024 + mant), exp - 25);
      ASSERT_EQ(double(f), expect) << "pattern " << h;
      ASSERT_EQ(std::signbit(f), sign < 0) << h;
    }
    ASSERT_EQ(f32_to_f16(f), hb) << "round trip of pattern " << h;
  }
}

TEST(Half, AllBf16PatternsRoundTrip) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const auto hb = static_cast<uint16_t>(h);
    const float f = bf16_to_f32(hb);
    ASSERT_EQ(bits_of(f), h << 16);
    if (is_bf16_nan(hb)) {
      EXPECT_TRUE(is_bf16_nan(f32_to_bf16(f))) << h;
    } else {
      ASSERT_EQ(f32_to_bf16(f), hb) << h;
    }
  }
}

// Rounding of values chosen to sit on and around every kind of boundary, compared against
// numpy (f16) and torch (bf16) run as separate processes.
TEST(Half, RoundingMatchesNumpyAndTorch) {
  std::mt19937 rng(20240607);
  std::vector<float> xs = {0.0f, -0.0f, 1.0f, 0.1f, 65504.0f, 65519.996f, 65520.0f, 65536.0f,
                           1e10f, -1e10f, FLT_MAX, -FLT_MAX, FLT_MIN, 0x1p-24f, 0x1p-25f,
                           3 * 0x1p-25f, 1023.5f * 0x1p-24f, 0x1p-14f, 1e-30f,
                           std::numeric_limits<float>::infinity(),
                           -std::numeric_limits<float>::infinity()};
  // Around every f16 boundary: exact midpoints between neighbouring halves (ties) and the
  // floats one ulp either side of them; plus random floats over the whole f16 range.
  for (int k = 0; k < 3000; ++k) {
    uint16_t h = static_cast<uint16_t>(rng() & 0x7BFE);  // finite, below the top value
    if (rng() & 1) h |= 0x8000;
    const float a = f16_to_f32(h), b = f16_to_f32(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((double(a) + double(b)) / 2);  // exact in f32
    xs.push_back(mid);
    xs.push_back(std::nextafter(mid, 0.0f));
    xs.push_back(std::nextafter(mid, 2 * mid));
    xs.push_back(std::ldexp(std::uniform_real_distribution<float>(-2, 2)(rng),
                            static_cast<int>(rng() % 50) - 30));
  }
  // bf16 ties: floats whose low 16 bits are exactly 0x8000, and their neighbours.
  for (int k = 0; k < 1000; ++k) {
    const uint32_t u = (rng() & 0x7F7F0000u) | 0x8000u | ((rng() & 1u) << 31);
    xs.push_back(float_of(u));
    xs.push_back(float_of(u + 1));
    xs.push_back(float_of(u - 1));
  }

  const std::string dir = test::scratch_dir("half");
  test::write_file(dir + "/in.f32", xs.data(), xs.size() * sizeof(float));
  const std::string cmd = test::python() + " " +
                          test::quoted(test::source_dir() + "/tests/reference/ref_half.py") +
                          " " + test::quoted(dir + "/in.f32") + " " +
                          test::quoted(dir + "/out.f16") + " " + test::quoted(dir + "/out.bf16");
  ASSERT_EQ(test::run_command(cmd), 0) << cmd;

  const auto f16_ref = test::read_file_as<uint16_t>(dir + "/out.f16");
  ASSERT_EQ(f16_ref.size(), xs.size());
  for (size_t i = 0; i < xs.size(); ++i)
    ASSERT_EQ(f32_to_f16(xs[i]), f16_ref[i]) << "x = " << xs[i] << " (0x" << std::hex
                                             << bits_of(xs[i]) << ")";

  const auto bf16_ref = test::read_file_as<uint16_t>(dir + "/out.bf16");
  if (bf16_ref.empty()) GTEST_SKIP() << "torch not importable: bf16 part skipped";
  ASSERT_EQ(bf16_ref.size(), xs.size());
  for (size_t i = 0; i < xs.size(); ++i)
    ASSERT_EQ(f32_to_bf16(xs[i]), bf16_ref[i]) << "x = " << xs[i] << " (0x" << std::hex
                                               << bits_of(xs[i]) << ")";
}

}  // namespace
}  // namespace paw
