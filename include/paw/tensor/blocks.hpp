#pragma once
// Quantized block structs, bit-identical to ggml's published layouts (ggml-common.h).
// Sizes are pinned with static_asserts; fp16 scales are stored as raw uint16_t.
#include <cstdint>

namespace paw {

inline constexpr int QK4_0 = 32;
inline constexpr int QK4_1 = 32;
inline constexpr int QK5_0 = 32;
inline constexpr int QK5_1 = 32;
inline constexpr int QK8_0 = 32;
inline constexpr int QK_K = 256;
inline constexpr int K_SCALE_SIZE = 12;

struct block_q4_0 {
  uint16_t d;              // fp16 delta
  uint8_t qs[QK4_0 / 2];   // nibbles: low nibble = element j, high nibble = element j+16
};
static_assert(sizeof(block_q4_0) == 18);

struct block_q4_1 {
  uint16_t d, m;           // fp16 delta and min
  uint8_t qs[QK4_1 / 2];
};
static_assert(sizeof(block_q4_1) == 20);

struct block_q5_0 {
  uint16_t d;
  uint8_t qh[4];           // 5th bits
  uint8_t qs[QK5_0 / 2];
};
static_assert(sizeof(block_q5_0) == 22);

struct block_q5_1 {
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[QK5_1 / 2];
};
static_assert(sizeof(block_q5_1) == 24);

struct block_q8_0 {
  uint16_t d;
  int8_t qs[QK8_0];
};
static_assert(sizeof(block_q8_0) == 34);

struct block_q4_K {
  uint16_t d, dmin;                 // super-block scale for scales / mins
  uint8_t scales[K_SCALE_SIZE];     // 8 x (6-bit scale, 6-bit min), packed
  uint8_t qs[QK_K / 2];
};
static_assert(sizeof(block_q4_K) == 144);

struct block_q5_K {
  uint16_t d, dmin;
  uint8_t scales[K_SCALE_SIZE];
  uint8_t qh[QK_K / 8];
  uint8_t qs[QK_K / 2];
};
static_assert(sizeof(block_q5_K) == 176);

struct block_q6_K {
  uint8_t ql[QK_K / 2];    // low 4 bits
  uint8_t qh[QK_K / 4];    // high 2 bits
  int8_t scales[QK_K / 16];
  uint16_t d;
};
static_assert(sizeof(block_q6_K) == 210);

// Activation blocks for integer dot products (ggml's block_q8_K).
struct block_q8_K {
  float d;
  int8_t qs[QK_K];
  int16_t bsums[QK_K / 16];
};
static_assert(sizeof(block_q8_K) == 292);

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K / Q5_K super-block, unpacked from
// the 12 scale bytes (ggml's get_scale_min_k4). Layout:
//   bytes 0-3:  scale[0..3] in bits 0-5; bits 6-7 hold bits 4-5 of scale[4..7]
//   bytes 4-7:  min[0..3]   in bits 0-5; bits 6-7 hold bits 4-5 of min[4..7]
//   bytes 8-11: bits 0-3 of scale[4..7] in the low nibble, bits 0-3 of min[4..7] in the high
inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *min = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

}  // namespace paw
