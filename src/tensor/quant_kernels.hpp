#pragma once
// Per-type reference codecs behind paw::dequantize_row / paw::quantize_row (quantize.cpp does
// argument checks and dispatch). Each works on nb whole blocks; rows are raw bytes that need
// not be aligned for the block struct.
#include <cstdint>

#include "paw/tensor/blocks.hpp"

namespace paw::detail {

// quantize_legacy.cpp: 32-element blocks with one fp16 scale (and min).
void dequantize_q4_0(const void* src, float* dst, int64_t nb);
void dequantize_q4_1(const void* src, float* dst, int64_t nb);
void dequantize_q5_0(const void* src, float* dst, int64_t nb);
void dequantize_q5_1(const void* src, float* dst, int64_t nb);
void dequantize_q8_0(const void* src, float* dst, int64_t nb);
void quantize_q4_0(const float* src, void* dst, int64_t nb);
void quantize_q4_1(const float* src, void* dst, int64_t nb);
void quantize_q5_0(const float* src, void* dst, int64_t nb);
void quantize_q5_1(const float* src, void* dst, int64_t nb);
void quantize_q8_0(const float* src, void* dst, int64_t nb);

// dequantize_k.cpp / quantize_k.cpp: 256-element super-blocks.
void dequantize_q4_K(const void* src, float* dst, int64_t nb);
void dequantize_q5_K(const void* src, float* dst, int64_t nb);
void dequantize_q6_K(const void* src, float* dst, int64_t nb);
void quantize_q4_K(const float* src, void* dst, int64_t nb);
void quantize_q5_K(const float* src, void* dst, int64_t nb);
void quantize_q6_K(const float* src, void* dst, int64_t nb);
void quantize_q8_K_blocks(const float* src, block_q8_K* dst, int64_t nb);
void dequantize_q8_K_blocks(const block_q8_K* src, float* dst, int64_t nb);

}  // namespace paw::detail
