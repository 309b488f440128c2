#pragma once
// Small numeric helpers shared by the reference quantizers. They reproduce the exact integer
// results ggml's C code gets on x86-64, without the undefined behaviour that C has for
// out-of-range float -> int conversions (which only non-finite or absurd inputs reach).
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "paw/tensor/half.hpp"

namespace paw::detail {

// Round to nearest, ties to even, by adding 1.5 * 2^23: the float addition does the rounding
// and the integer lands in the low mantissa bits (ggml's nearest_int). Exact for
// |x| <= 2^22 - 1; larger or non-finite inputs give a meaningless but defined value, just as
// in ggml, and every caller clamps the result.
inline int nearest_int(float x) {
  const float v = x + 12582912.f;
  const int32_t i = std::bit_cast<int32_t>(v);
  return (i & 0x007fffff) - 0x00400000;
}

// C's (int) truncation as x86's cvttss2si does it: NaN and values outside int32 give
// INT32_MIN ("integer indefinite") instead of undefined behaviour.
inline int32_t trunc_i32(float x) {
  if (!(x > -2147483904.f && x < 2147483648.f)) return INT32_MIN;
  return static_cast<int32_t>(x);
}

// C's (int8_t)(float) / (uint8_t)(float) as compiled for x86-64 (truncate to int32, keep the
// low byte).
inline int8_t trunc_i8(float x) { return static_cast<int8_t>(trunc_i32(x)); }
inline uint8_t trunc_u8(float x) { return static_cast<uint8_t>(trunc_i32(x)); }

inline float fp16(uint16_t h) { return f16_to_f32(h); }

// Loads block i of a row whose start may not be aligned for T (GGUF data is 32-byte aligned,
// but callers may pass any byte offset); memcpy keeps that free of undefined behaviour.
template <class T>
inline T load_block(const void* row, int64_t i) {
  T b;
  std::memcpy(&b, static_cast<const uint8_t*>(row) + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
  return b;
}

template <class T>
inline void store_block(void* row, int64_t i, const T& b) {
  std::memcpy(static_cast<uint8_t*>(row) + i * static_cast<int64_t>(sizeof(T)), &b, sizeof(T));
}

}  // namespace paw::detail
