// Reference codecs for the 32-element block types Q4_0 Q4_1 Q5_0 Q5_1 Q8_0, following ggml's
// dequantize_row_* and quantize_row_*_ref bit for bit (same float operations in the same
// order, so results are identical, not merely close).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "paw/tensor/blocks.hpp"
#include "quant_kernels.hpp"
#include "quant_math.hpp"

namespace paw::detail {
namespace {

// Element j (< 16) of a 32-block lives in the low nibble of qs[j]; element j + 16 in the
// high nibble. The 5-bit types keep bit 4 of element k in bit k of the little-endian qh.
uint32_t load_qh(const uint8_t (&qh)[4]) {
  return static_cast<uint32_t>(qh[0]) | static_cast<uint32_t>(qh[1]) << 8 |
         static_cast<uint32_t>(qh[2]) << 16 | static_cast<uint32_t>(qh[3]) << 24;
}

void store_qh(uint8_t (&qh)[4], uint32_t v) {
  for (int k = 0; k < 4; ++k) qh[k] = static_cast<uint8_t>(v >> (8 * k));
}

// The signed value of largest magnitude (the first one on ties); 0 for an all-zero block.
// The symmetric types map it to the most negative level so the extreme is represented
// exactly and the sign of d carries the direction.
float signed_absmax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, int n, float* min, float* max) {
  *min = FLT_MAX;
  *max = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    if (x[j] < *min) *min = x[j];
    if (x[j] > *max) *max = x[j];
  }
}

}  // namespace

void dequantize_q4_0(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK4_0) {
    const auto b = load_block<block_q4_0>(src, i);
    const float d = fp16(b.d);
    for (int j = 0; j < QK4_0 / 2; ++j) {
      const int x0 = (b.qs[j] & 0x0F) - 8;
      const int x1 = (b.qs[j] >> 4) - 8;
      y[j] = static_cast<float>(x0) * d;
      y[j + QK4_0 / 2] = static_cast<float>(x1) * d;
    }
  }
}

void dequantize_q4_1(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK4_1) {
    const auto b = load_block<block_q4_1>(src, i);
    const float d = fp16(b.d), m = fp16(b.m);
    for (int j = 0; j < QK4_1 / 2; ++j) {
      // Two roundings (multiply, then add), never a fused multiply-add: ggml's reference.
      const float p0 = static_cast<float>(b.qs[j] & 0x0F) * d;
      const float p1 = static_cast<float>(b.qs[j] >> 4) * d;
      y[j] = p0 + m;
      y[j + QK4_1 / 2] = p1 + m;
    }
  }
}

void dequantize_q5_0(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK5_0) {
    const auto b = load_block<block_q5_0>(src, i);
    const float d = fp16(b.d);
    const uint32_t qh = load_qh(b.qh);
    for (int j = 0; j < QK5_0 / 2; ++j) {
      const int h0 = static_cast<int>((qh >> j) & 1u) << 4;
      const int h1 = static_cast<int>((qh >> (j + 16)) & 1u) << 4;
      const int x0 = ((b.qs[j] & 0x0F) | h0) - 16;
      const int x1 = ((b.qs[j] >> 4) | h1) - 16;
      y[j] = static_cast<float>(x0) * d;
      y[j + QK5_0 / 2] = static_cast<float>(x1) * d;
    }
  }
}

void dequantize_q5_1(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK5_1) {
    const auto b = load_block<block_q5_1>(src, i);
    const float d = fp16(b.d), m = fp16(b.m);
    const uint32_t qh = load_qh(b.qh);
    for (int j = 0; j < QK5_1 / 2; ++j) {
      const int h0 = static_cast<int>((qh >> j) & 1u) << 4;
      const int h1 = static_cast<int>((qh >> (j + 16)) & 1u) << 4;
      const float p0 = static_cast<float>((b.qs[j] & 0x0F) | h0) * d;
      const float p1 = static_cast<float>((b.qs[j] >> 4) | h1) * d;
      y[j] = p0 + m;
      y[j + QK5_1 / 2] = p1 + m;
    }
  }
}

void dequantize_q8_0(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK8_0) {
    const auto b = load_block<block_q8_0>(src, i);
    const float d = fp16(b.d);
    for (int j = 0; j < QK8_0; ++j) y[j] = static_cast<float>(b.qs[j]) * d;
  }
}

void quantize_q4_0(const float* x, void* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += QK4_0) {
    block_q4_0 b{};
    const float max = signed_absmax(x, QK4_0);
    const float d = max / -8;  // max lands on level 0, i.e. -8 * d
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = f32_to_f16(d);
    for (int j = 0; j < QK4_0 / 2; ++j) {
      // +8.5 then truncation = round half up into 0..16; 16 (only x == -max) clamps to 15.
      const int q0 = std::min<int>(15, trunc_i8(x[j] * id + 8.5f));
      const int q1 = std::min<int>(15, trunc_i8(x[j + QK4_0 / 2] * id + 8.5f));
      b.qs[j] = static_cast<uint8_t>(static_cast<uint8_t>(q0) | static_cast<uint8_t>(q1) << 4);
    }
    store_block(dst, i, b);
  }
}

void quantize_q4_1(const float* x, void* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += QK4_1) {
    block_q4_1 b{};
    float min, max;
    min_max(x, QK4_1, &min, &max);
    const float d = (max - min) / 15;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = f32_to_f16(d);
    b.m = f32_to_f16(min);
    for (int j = 0; j < QK4_1 / 2; ++j) {
      const int q0 = std::min<int>(15, trunc_i8((x[j] - min) * id + 0.5f));
      const int q1 = std::min<int>(15, trunc_i8((x[j + QK4_1 / 2] - min) * id + 0.5f));
      b.qs[j] = static_cast<uint8_t>(static_cast<uint8_t>(q0) | static_cast<uint8_t>(q1) << 4);
    }
    store_block(dst, i, b);
  }
}

void quantize_q5_0(const float* x, void* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += QK5_0) {
    block_q5_0 b{};
    const float max = signed_absmax(x, QK5_0);
    const float d = max / -16;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = f32_to_f16(d);
    uint32_t qh = 0;
    for (int j = 0; j < QK5_0 / 2; ++j) {
      const auto q0 = static_cast<uint8_t>(std::min<int>(31, trunc_i8(x[j] * id + 16.5f)));
      const auto q1 =
          static_cast<uint8_t>(std::min<int>(31, trunc_i8(x[j + QK5_0 / 2] * id + 16.5f)));
      b.qs[j] = static_cast<uint8_t>((q0 & 0x0F) | (q1 & 0x0F) << 4);
      qh |= static_cast<uint32_t>((q0 >> 4) & 1) << j;
      qh |= static_cast<uint32_t>((q1 >> 4) & 1) << (j + QK5_0 / 2);
    }
    store_qh(b.qh, qh);
    store_block(dst, i, b);
  }
}

void quantize_q5_1(const float* x, void* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += QK5_1) {
    block_q5_1 b{};
    float min, max;
    min_max(x, QK5_1, &min, &max);
    const float d = (max - min) / 31;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = f32_to_f16(d);
    b.m = f32_to_f16(min);
    uint32_t qh = 0;
    for (int j = 0; j < QK5_1 / 2; ++j) {
      // No clamp here in ggml either: (x - min) * id <= 31 up to rounding, so +0.5 stays < 32.
      const uint8_t q0 = trunc_u8((x[j] - min) * id + 0.5f);
      const uint8_t q1 = trunc_u8((x[j + QK5_1 / 2] - min) * id + 0.5f);
      b.qs[j] = static_cast<uint8_t>((q0 & 0x0F) | (q1 & 0x0F) << 4);
      qh |= static_cast<uint32_t>((q0 >> 4) & 1) << j;
      qh |= static_cast<uint32_t>((q1 >> 4) & 1) << (j + QK5_1 / 2);
    }
    store_qh(b.qh, qh);
    store_block(dst, i, b);
  }
}

void quantize_q8_0(const float* x, void* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += QK8_0) {
    block_q8_0 b{};
    float amax = 0.0f;
    for (int j = 0; j < QK8_0; ++j) {
      const float a = std::fabs(x[j]);
      amax = amax > a ? amax : a;  // ggml's MAX(): a NaN wins, as there
    }
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = f32_to_f16(d);
    // roundf: halves go away from zero (not to even).
    for (int j = 0; j < QK8_0; ++j) b.qs[j] = trunc_i8(std::round(x[j] * id));
    store_block(dst, i, b);
  }
}

}  // namespace paw::detail
