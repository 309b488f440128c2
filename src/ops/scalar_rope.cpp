// Rotary position embedding, both pairings. NeoX (Qwen3): in each head, element i pairs with
// i + head_dim/2. Interleaved (GPT-J, and Llama as llama.cpp stores it; ggml's "normal" mode):
// element 2i pairs with 2i + 1. Pair i turns by the same angle in both.
#include <cmath>

#include "ops/scalar.hpp"

namespace paw {

void rope_tables(const int32_t* pos, int64_t n_tokens, int64_t head_dim, double theta, float* cos,
                 float* sin) {
  const int64_t half = head_dim / 2;
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t i = 0; i < half; ++i) {
      const double freq = std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
      const double angle = static_cast<double>(pos[t]) * freq;
      cos[t * half + i] = static_cast<float>(std::cos(angle));
      sin[t * half + i] = static_cast<float>(std::sin(angle));
    }
}

namespace scalar {

void rope_neox(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const float* cos,
               const float* sin) {
  const int64_t half = head_dim / 2;
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* c = cos + t * half;
    const float* s = sin + t * half;
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + (t * n_heads + h) * head_dim;
      for (int64_t i = 0; i < half; ++i) {
        const float x0 = v[i], x1 = v[i + half];
        v[i] = x0 * c[i] - x1 * s[i];
        v[i + half] = x0 * s[i] + x1 * c[i];
      }
    }
  }
}

void rope_interleaved(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const float* cos,
                      const float* sin) {
  const int64_t half = head_dim / 2;
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* c = cos + t * half;
    const float* s = sin + t * half;
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + (t * n_heads + h) * head_dim;
      for (int64_t i = 0; i < half; ++i) {
        const float x0 = v[2 * i], x1 = v[2 * i + 1];
        v[2 * i] = x0 * c[i] - x1 * s[i];
        v[2 * i + 1] = x0 * s[i] + x1 * c[i];
      }
    }
  }
}

}  // namespace scalar
}  // namespace paw
