#pragma once
// Deterministic quantizer inputs that any C/C++ toolchain reproduces bit for bit: an LCG and
// exact float arithmetic only (no libm, no std::normal_distribution). The golden digests in
// quantize_golden_test.cpp were produced by running ggml's own quantize_row_*_ref (ggml-org/
// ggml at d99724f2, compiled with gcc -O2 -std=c11 -DNDEBUG) on exactly these rows.
#include <cstdint>
#include <vector>

namespace paw::test {

// Row r (0..5) of 4096 values.
//   0: bell-shaped (sum of 4 uniforms), unit scale     1: same at scale 1/64
//   2: with an outlier x20 every 61st value            3: strictly positive (offset 1.5)
//   4: strictly negative                                5: zero and constant 32-blocks
//      mixed in (never a whole zero 256-block)
inline std::vector<float> golden_row(int r) {
  uint32_t s = 0x9E3779B9u * static_cast<uint32_t>(r + 1);
  auto uniform = [&s] {  // exact multiple of 2^-24 in [0, 1)
    s = s * 1664525u + 1013904223u;
    return static_cast<float>(s >> 8) * (1.0f / 16777216.0f);
  };
  std::vector<float> x(4096);
  for (int i = 0; i < 4096; ++i) {
    float v = uniform() + uniform() + uniform() + uniform() - 2.0f;
    switch (r) {
      case 1: v *= 0.015625f; break;
      case 2: if (i % 61 == 0) v *= 20.0f; break;
      case 3: v = v * 0.5f + 1.5f; break;
      case 4: v = v * 0.25f - 0.75f; break;
      case 5:
        if ((i / 32) % 5 == 1) v = 0.0f;
        if ((i / 32) % 5 == 3) v = -1.25f;
        break;
      default: break;
    }
    x[i] = v;
  }
  return x;
}

inline constexpr int kGoldenRows = 6;

}  // namespace paw::test
