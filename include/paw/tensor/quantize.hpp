#pragma once
// Reference (scalar) dequantize / quantize of rows. These define correctness: every SIMD
// kernel in ops/ is tested against them.
#include <cstdint>

#include "paw/tensor/dtype.hpp"

namespace paw {

// dst[0..n) = values of the n elements at src. n must be a multiple of the block size.
// Supported: F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q4_K Q5_K Q6_K. Throws paw::Error otherwise.
void dequantize_row(DType type, const void* src, float* dst, int64_t n);

// Encodes n floats into dst (row_bytes(type, n) bytes), ggml's reference rounding.
// Supported: F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 (+ K-quants where traits().can_quantize).
void quantize_row(DType type, const float* src, void* dst, int64_t n);

}  // namespace paw
