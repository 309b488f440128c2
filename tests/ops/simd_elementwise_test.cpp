// SIMD element-wise kernels (every table this CPU runs) against the scalar reference, on
// lengths around the vector widths (1, 7, 8, 15, 16, 17, 31) and model sizes (1024, 3072).
// add / add_rows / scale / store_row are single correctly rounded operations: equal bit for
// bit. The others agree to a few float ulps (vectorised exp, F32 vs double sums).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "ops_test_util.hpp"
#include "paw/tensor/half.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

using test::random_floats;

const int64_t kLengths[] = {1, 7, 8, 15, 16, 17, 31, 100, 1024, 3072};

std::vector<const KernelTable*> simd_tables() {
  std::vector<const KernelTable*> v;
  for (const KernelTable* kt : available_kernels())
    if (kt != &scalar_kernels()) v.push_back(kt);
  return v;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double rel, double abs,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], abs + rel * std::fabs(want[i])) << what << " i=" << i;
}

TEST(SimdElementwise, ExactOps) {
  const KernelTable& ref = scalar_kernels();
  for (const KernelTable* kt : simd_tables())
    for (int64_t n : kLengths) {
      SCOPED_TRACE(std::string(kt->name) + " n=" + std::to_string(n));
      auto a = random_floats(n * 3, 1), b = random_floats(n * 3, 2);
      std::vector<float> y1(n * 3), y2(n * 3);
      ref.add(a.data(), b.data(), y1.data(), n);
      kt->add(a.data(), b.data(), y2.data(), n);
      EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), n * 4)) << "add";
      ref.scale(a.data(), 0.37f, y1.data(), n);
      kt->scale(a.data(), 0.37f, y2.data(), n);
      EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), n * 4)) << "scale";
      y1 = a;
      y2 = a;
      ref.add_rows(y1.data(), b.data(), 3, n);
      kt->add_rows(y2.data(), b.data(), 3, n);
      EXPECT_EQ(y1, y2) << "add_rows";
      // in place (y aliases an input)
      y2 = a;
      kt->add(y2.data(), b.data(), y2.data(), n);
      ref.add(a.data(), b.data(), y1.data(), n);
      EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), n * 4)) << "add in place";
    }
}

TEST(SimdElementwise, StoreRowF16BitExact) {
  // Random values over many binades, plus the edges: subnormal halves, ties, overflow, ±0, ±inf.
  std::vector<float> x = random_floats(3000, 3);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::ldexp(x[i], static_cast<int>(i % 50) - 30);
  const float edge[] = {0.0f, -0.0f, 65504.0f, 65520.0f, 1e6f, -1e6f, 6.1e-5f, 5.96e-8f, 2.98e-8f, 1e-9f,
                        1.00048828125f, 1.00146484375f, std::numeric_limits<float>::infinity(),
                        -std::numeric_limits<float>::infinity()};
  x.insert(x.end(), std::begin(edge), std::end(edge));
  for (const KernelTable* kt : simd_tables())
    for (int64_t n : {int64_t{1}, int64_t{17}, static_cast<int64_t>(x.size())}) {
      std::vector<uint16_t> h1(n, 0xABCD), h2(n + 1, 0xABCD);
      scalar_kernels().store_row(x.data() + x.size() - n, h1.data(), DType::F16, n);
      kt->store_row(x.data() + x.size() - n, h2.data(), DType::F16, n);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(h1[i], h2[i]) << kt->name << " x=" << x[x.size() - n + i];
      EXPECT_EQ(h2[n], 0xABCD) << "wrote past the row";
      std::vector<float> f(n);
      kt->store_row(x.data(), f.data(), DType::F32, n);
      EXPECT_EQ(0, std::memcmp(f.data(), x.data(), n * 4));
    }
  // NaN stays NaN (the payload may differ from the reference's 0x7E00).
  for (const KernelTable* kt : simd_tables()) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    uint16_t h = 0;
    kt->store_row(&nan, &h, DType::F16, 1);
    EXPECT_TRUE(std::isnan(f16_to_f32(h)));
    EXPECT_THROW(kt->store_row(&nan, &h, DType::Q8_0, 1), Error);
  }
}

TEST(SimdElementwise, NormsAndRope) {
  const KernelTable& ref = scalar_kernels();
  for (const KernelTable* kt : simd_tables())
    for (int64_t n : kLengths) {
      SCOPED_TRACE(std::string(kt->name) + " n=" + std::to_string(n));
      auto x = random_floats(n * 2, 4, 3.0f), w = random_floats(n, 5), b = random_floats(n, 6);
      x[0] += 40.0f;  // a large mean for layernorm
      std::vector<float> y1(n * 2), y2(n * 2);
      ref.rmsnorm(x.data(), w.data(), y1.data(), 2, n, 1e-6f);
      kt->rmsnorm(x.data(), w.data(), y2.data(), 2, n, 1e-6f);
      expect_close(y2, y1, 1e-6, 1e-7, "rmsnorm");
      y2 = x;
      kt->rmsnorm(y2.data(), w.data(), y2.data(), 2, n, 1e-6f);  // in place
      expect_close(y2, y1, 1e-6, 1e-7, "rmsnorm in place");
      ref.layernorm(x.data(), w.data(), b.data(), y1.data(), 2, n, 1e-5f);
      kt->layernorm(x.data(), w.data(), b.data(), y2.data(), 2, n, 1e-5f);
      expect_close(y2, y1, 1e-6, 1e-6, "layernorm");
      ref.layernorm(x.data(), w.data(), nullptr, y1.data(), 2, n, 1e-5f);
      kt->layernorm(x.data(), w.data(), nullptr, y2.data(), 2, n, 1e-5f);
      expect_close(y2, y1, 1e-6, 1e-6, "layernorm without bias");
    }
  // RoPE: head sizes 128 (Qwen3), 64, 6 and 34 (tails), 600 (more than one 256-value block of
  // the interleaved kernel); positions far apart.
  for (const KernelTable* kt : simd_tables())
    for (int64_t hd : {128, 64, 6, 34, 600}) {
      const int32_t pos[] = {0, 1, 777, 40000};
      std::vector<float> c(4 * hd / 2), s(4 * hd / 2);
      rope_tables(pos, 4, hd, 1e6, c.data(), s.data());
      auto x = random_floats(4 * 3 * hd, 7);
      auto y1 = x, y2 = x;
      scalar_kernels().rope_neox(y1.data(), 4, 3, hd, c.data(), s.data());
      kt->rope_neox(y2.data(), 4, 3, hd, c.data(), s.data());
      expect_close(y2, y1, 1e-6, 1e-6, std::string(kt->name) + " rope hd=" + std::to_string(hd));
      y1 = x, y2 = x;
      scalar_kernels().rope_interleaved(y1.data(), 4, 3, hd, c.data(), s.data());
      kt->rope_interleaved(y2.data(), 4, 3, hd, c.data(), s.data());
      expect_close(y2, y1, 1e-6, 1e-6, std::string(kt->name) + " interleaved rope hd=" + std::to_string(hd));
    }
}

TEST(SimdElementwise, ActivationsAndSoftmax) {
  const KernelTable& ref = scalar_kernels();
  for (const KernelTable* kt : simd_tables())
    for (int64_t n : kLengths) {
      SCOPED_TRACE(std::string(kt->name) + " n=" + std::to_string(n));
      auto x = random_floats(n, 8, 4.0f), u = random_floats(n, 9);
      // the far tails of exp: saturation and underflow must give the limits, not NaN
      const float tails[] = {-100.0f, 100.0f, -88.5f, 88.5f, 0.0f, -1e-8f, 30.0f};
      for (size_t i = 0; i < sizeof tails / sizeof tails[0] && i < static_cast<size_t>(n); ++i) x[i * 3 % n] = tails[i];
      std::vector<float> y1(n), y2(n);
      ref.silu(x.data(), y1.data(), n);
      kt->silu(x.data(), y2.data(), n);
      expect_close(y2, y1, 2e-6, 1e-30, "silu");
      ref.gelu(x.data(), y1.data(), n);
      kt->gelu(x.data(), y2.data(), n);
      expect_close(y2, y1, 2e-6, 1e-7, "gelu");
      ref.swiglu(x.data(), u.data(), y1.data(), n);
      kt->swiglu(x.data(), u.data(), y2.data(), n);
      expect_close(y2, y1, 3e-6, 1e-30, "swiglu");
      y2 = x;
      kt->swiglu(y2.data(), u.data(), y2.data(), n);  // aliasing the gate
      expect_close(y2, y1, 3e-6, 1e-30, "swiglu in place");
      // softmax over scores spread far enough that some underflow to 0
      auto s = random_floats(n, 10, 20.0f);
      y1 = s;
      y2 = s;
      ref.softmax(y1.data(), n);
      kt->softmax(y2.data(), n);
      expect_close(y2, y1, 3e-6, 1e-12, "softmax");
    }
}

}  // namespace
}  // namespace paw
