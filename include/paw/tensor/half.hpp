#pragma once
// IEEE half and bfloat16 conversions (round-to-nearest-even, NaN/Inf preserved), matching
// ggml's GGML_FP32_TO_FP16 / GGML_FP32_TO_BF16 results bit for bit.
#include <cstdint>

namespace paw {

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
float bf16_to_f32(uint16_t b);
uint16_t f32_to_bf16(float f);

}  // namespace paw
