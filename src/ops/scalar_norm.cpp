// Scalar RMSNorm and LayerNorm over rows. Sums are accumulated in double: these run once
// per row (cheap) and their rounding would otherwise dominate the F32-vs-float64 comparison.
#include <cmath>

#include "ops/scalar.hpp"

namespace paw::scalar {

void rmsnorm(const float* x, const float* w, float* y, int64_t n_rows, int64_t n, float eps) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    double ss = 0.0;
    for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(xr[i]) * xr[i];
    const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
    for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] * inv * w[i];
  }
}

void layernorm(const float* x, const float* w, const float* b, float* y, int64_t n_rows, int64_t n, float eps) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += xr[i];
    const double mean = sum / static_cast<double>(n);
    double var = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double d = xr[i] - mean;
      var += d * d;
    }
    const double inv = 1.0 / std::sqrt(var / static_cast<double>(n) + eps);
    for (int64_t i = 0; i < n; ++i) {
      const float v = static_cast<float>((xr[i] - mean) * inv) * w[i];
      yr[i] = b ? v + b[i] : v;
    }
  }
}

}  // namespace paw::scalar
