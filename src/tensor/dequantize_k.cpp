// Reference decoders for the 256-element super-block types Q4_K Q5_K Q6_K, bit-identical to
// ggml's dequantize_row_q{4,5,6}_K (same float operations in the same order).
#include "paw/tensor/blocks.hpp"
#include "quant_kernels.hpp"
#include "quant_math.hpp"

namespace paw::detail {

// Q4_K: 8 sub-blocks of 32, each with a 6-bit scale sc and min m:
//   y = (d * sc) * q - (dmin * m),  q in 0..15.
// The 128 qs bytes are 4 chunks of 32; chunk c holds sub-block 2c in the low nibbles and
// sub-block 2c+1 in the high nibbles.
void dequantize_q4_K(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const auto b = load_block<block_q4_K>(src, i);
    const float d = fp16(b.d), dmin = fp16(b.dmin);
    const uint8_t* q = b.qs;
    for (int c = 0; c < 4; ++c, q += 32) {
      uint8_t sc, m;
      get_scale_min_k4(2 * c, b.scales, &sc, &m);
      const float d1 = d * sc, m1 = dmin * m;
      get_scale_min_k4(2 * c + 1, b.scales, &sc, &m);
      const float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
  }
}

// Q5_K: as Q4_K with a fifth bit per value in qh[32]: for chunk c, bit 2c of qh[l] belongs
// to element l of sub-block 2c and bit 2c+1 to element l of sub-block 2c+1.
void dequantize_q5_K(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const auto b = load_block<block_q5_K>(src, i);
    const float d = fp16(b.d), dmin = fp16(b.dmin);
    const uint8_t* ql = b.qs;
    for (int c = 0; c < 4; ++c, ql += 32) {
      uint8_t sc, m;
      get_scale_min_k4(2 * c, b.scales, &sc, &m);
      const float d1 = d * sc, m1 = dmin * m;
      get_scale_min_k4(2 * c + 1, b.scales, &sc, &m);
      const float d2 = d * sc, m2 = dmin * m;
      const int lo_bit = 2 * c, hi_bit = 2 * c + 1;
      for (int l = 0; l < 32; ++l) {
        const int q = (ql[l] & 0xF) | ((b.qh[l] >> lo_bit) & 1) << 4;
        *y++ = d1 * static_cast<float>(q) - m1;
      }
      for (int l = 0; l < 32; ++l) {
        const int q = (ql[l] >> 4) | ((b.qh[l] >> hi_bit) & 1) << 4;
        *y++ = d2 * static_cast<float>(q) - m2;
      }
    }
  }
}

// Q6_K: 16 sub-blocks of 16 with int8 scales; y = (d * sc) * (q - 32), q in 0..63.
// Each half of 128 values uses 64 ql bytes and 32 qh bytes: for l < 32 the four values
// l, l+32, l+64, l+96 take the low nibble of ql[l], the low nibble of ql[l+32], the high
// nibble of ql[l], the high nibble of ql[l+32], and bits (0-1, 2-3, 4-5, 6-7) of qh[l].
void dequantize_q6_K(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const auto b = load_block<block_q6_K>(src, i);
    const float d = fp16(b.d);
    for (int h = 0; h < 2; ++h, y += 128) {
      const uint8_t* ql = b.ql + 64 * h;
      const uint8_t* qh = b.qh + 32 * h;
      const int8_t* sc = b.scales + 8 * h;
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | ((qh[l] >> 0) & 3) << 4) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | ((qh[l] >> 2) & 3) << 4) - 32;
        const int q3 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
        const int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
        y[l + 0] = d * sc[is + 0] * static_cast<float>(q1);
        y[l + 32] = d * sc[is + 2] * static_cast<float>(q2);
        y[l + 64] = d * sc[is + 4] * static_cast<float>(q3);
        y[l + 96] = d * sc[is + 6] * static_cast<float>(q4);
      }
    }
  }
}

}  // namespace paw::detail
