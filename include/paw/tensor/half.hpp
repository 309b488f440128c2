#pragma once
// IEEE half and bfloat16 conversions (round-to-nearest-even, NaN/Inf preserved), matching
// ggml's GGML_FP32_TO_FP16 / GGML_FP32_TO_BF16 results bit for bit (verified once over all
// 2^32 floats against ggml's portable C conversions; the suite checks specials, ties and
// subnormals by hand and against numpy / torch).
// - f32_to_f16: subnormal halves are produced with correct rounding; every NaN becomes
//   sign | 0x7E00 (ggml's portable path; F16C hardware would keep payload bits instead).
// - f32_to_bf16: NaN -> top 16 bits with the quiet bit forced; subnormals round, no flush.
// - f16_to_f32 / bf16_to_f32 are exact; a half NaN keeps its payload and comes out quiet.
#include <cstdint>

namespace paw {

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
float bf16_to_f32(uint16_t b);
uint16_t f32_to_bf16(float f);

}  // namespace paw
