#pragma once
// Reference (scalar) dequantize / quantize of rows. These define correctness: every SIMD
// kernel in ops/ is tested against them.
#include <cstdint>

#include "paw/tensor/blocks.hpp"
#include "paw/tensor/dtype.hpp"

namespace paw {

// dst[0..n) = values of the n elements at src. n must be a multiple of the block size.
// Supported: F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q4_K Q5_K Q6_K. Throws paw::Error otherwise.
void dequantize_row(DType type, const void* src, float* dst, int64_t n);

// Encodes n floats into dst (row_bytes(type, n) bytes), ggml's reference rounding.
// Supported: F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q4_K Q5_K Q6_K (traits().can_quantize).
// Throws paw::Error for other types or n not a multiple of the block size.
void quantize_row(DType type, const float* src, void* dst, int64_t n);
//
// Notes on the encoders (all deterministic, bit-identical to ggml's *_ref quantizers, checked
// against ggml's own output in tests/tensor/quantize_golden_test.cpp):
// - F16 / BF16: round to nearest even; NaN -> quiet NaN (see half.hpp).
// - Q8_0 Q4_0 Q4_1 Q5_0 Q5_1: one scale per 32 values (ggml's quantize_row_*_ref).
// - Q4_K Q5_K: ggml's quantize_row_q4_K_ref / q5_K_ref (make_qkx2_quants search of scale and
//   min per 32 values, then 6-bit scales relative to the super-block's d / dmin).
// - Q6_K: ggml's quantize_row_q6_K_ref (make_qx_quants, weighted RMSE search per 16 values).
// - Non-finite inputs give unspecified (but valid, UB-free) blocks, as in ggml.

// Activations for integer dot products against K-quant weights: ggml's
// quantize_row_q8_K_ref. With max = the value of largest magnitude in the 256 (sign kept) and
// iscale = -127/max: qs = nearest(x*iscale) clamped to 127, d = 1/iscale, bsums[k] = sum of qs[16k..16k+16). An all-zero block gets
// d = 0, qs = 0, bsums = 0. n must be a multiple of QK_K (throws paw::Error otherwise).
void quantize_row_q8_K(const float* x, block_q8_K* y, int64_t n);

// y = d * qs (the inverse of quantize_row_q8_K, for tests and debugging).
void dequantize_row_q8_K(const block_q8_K* x, float* y, int64_t n);

}  // namespace paw
