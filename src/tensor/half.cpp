#include "paw/tensor/half.hpp"

#include <bit>

namespace paw {

// IEEE binary16: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits.
// binary32:      1 sign bit, 8 exponent bits (bias 127), 23 mantissa bits.
// All conversions work on bit patterns so they are exact, independent of the FPU rounding
// mode and free of undefined behaviour for every input.

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;

  if (exp == 0x1f) {
    // Inf stays Inf; NaN keeps its payload and comes out quiet, as the conversion ggml's
    // lookup table is built with (F16C or the generic path, which both quieten).
    const uint32_t bits = mant ? (sign | 0x7fc00000u | (mant << 13)) : (sign | 0x7f800000u);
    return std::bit_cast<float>(bits);
  }
  if (exp == 0) {
    if (mant == 0) return std::bit_cast<float>(sign);  // +-0
    // Subnormal: value = mant * 2^-24. Shift the leading one up to bit 10 to make it a
    // normal binary32 number; each shift lowers the exponent by one.
    int e = -14;
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --e;
    }
    mant &= 0x3ffu;
    return std::bit_cast<float>(sign | static_cast<uint32_t>(e + 127) << 23 | (mant << 13));
  }
  return std::bit_cast<float>(sign | (exp + 112u) << 23 | (mant << 13));  // 112 = 127 - 15
}

uint16_t f32_to_f16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const auto sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7fffffffu;

  // NaN -> the canonical quiet NaN with the input's sign: ggml's portable
  // GGML_COMPUTE_FP32_TO_FP16 returns sign | 0x7E00 for every NaN.
  if (ax > 0x7f800000u) return sign | 0x7e00u;
  // |f| >= 65520 (half way between 65504, the largest half, and 65536) rounds to Inf; the
  // tie goes to Inf because 65504's mantissa is odd.
  if (ax >= 0x477ff000u) return sign | 0x7c00u;

  if (ax >= 0x38800000u) {
    // Normal half (|f| >= 2^-14). Drop 13 mantissa bits with round-to-nearest-even: adding
    // 0xfff plus the lowest kept bit carries into the kept bits exactly when the dropped
    // part is above half, or exactly half with an odd kept part. A carry out of the
    // mantissa correctly bumps the exponent.
    const uint32_t rounded = ax + 0xfffu + ((ax >> 13) & 1u);
    return sign | static_cast<uint16_t>((rounded - (112u << 23)) >> 13);
  }

  // Subnormal half or zero: result = round(|f| / 2^-24). |f| <= 2^-25 rounds to zero (the
  // exact half 2^-25 ties to the even value 0).
  if (ax <= 0x33000000u) return sign;
  const uint32_t e = ax >> 23;                       // 102..112 here
  const uint32_t mant = (ax & 0x7fffffu) | 0x800000u;  // with the implicit leading one
  const uint32_t shift = 126u - e;                   // |f| = mant * 2^(e-150) = q * 2^-24
  uint32_t q = mant >> shift;
  const uint32_t rem = mant & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1u);
  if (rem > half || (rem == half && (q & 1u))) ++q;  // q may reach 0x400: the least normal
  return sign | static_cast<uint16_t>(q);
}

float bf16_to_f32(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

uint16_t f32_to_bf16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  // NaN: truncate and set the quiet bit (bit 6 of the bf16), as ggml does; truncation could
  // otherwise turn a NaN whose payload lives in the low 16 bits into Inf.
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  // Round to nearest even on the 16 dropped bits; overflow carries into Inf as it should.
  // Subnormals are rounded too, not flushed (current ggml behaviour).
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

}  // namespace paw
