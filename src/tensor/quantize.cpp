// Argument checks and per-type dispatch for the reference row codecs; the codecs themselves
// live in quantize_legacy.cpp, dequantize_k.cpp and quantize_k.cpp.
#include "paw/tensor/quantize.hpp"

#include <cstring>
#include <string>

#include "paw/tensor/half.hpp"
#include "paw/util/error.hpp"
#include "quant_kernels.hpp"

namespace paw {
namespace {

// Number of blocks in a row of n elements; throws if n is negative or not whole blocks.
int64_t whole_blocks(const char* fn, DType type, int64_t n, int64_t block_size) {
  if (n < 0 || n % block_size != 0) {
    throw Error("row length " + std::to_string(n) + " is not a multiple of the " +
                    std::string(dtype_name(type)) + " block size " + std::to_string(block_size),
                std::string(fn) + "(" + std::string(dtype_name(type)) + ")",
                "rows of block-quantized tensors must hold whole blocks; check ne[0] of the "
                "tensor");
  }
  return n / block_size;
}

[[noreturn]] void unsupported(const char* fn, DType type, const char* what) {
  throw Error(std::string("no reference ") + what + " for weight type " +
                  std::string(dtype_name(type)),
              fn,
              "supported: f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q4_K q5_K q6_K; convert the "
              "tensor to one of these");
}

}  // namespace

void dequantize_row(DType type, const void* src, float* dst, int64_t n) {
  const DTypeTraits& tr = traits(type);  // throws for ids paw does not know
  const int64_t nb = whole_blocks("dequantize_row", type, n, tr.block_size);
  const auto* bytes = static_cast<const uint8_t*>(src);
  switch (type) {
    case DType::F32:
      if (nb > 0) std::memcpy(dst, src, static_cast<size_t>(nb) * sizeof(float));
      return;
    case DType::F16:
    case DType::BF16:
      for (int64_t i = 0; i < nb; ++i) {
        uint16_t h;
        std::memcpy(&h, bytes + 2 * i, 2);  // source rows need not be 2-byte aligned
        dst[i] = type == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
      }
      return;
    case DType::Q4_0: return detail::dequantize_q4_0(src, dst, nb);
    case DType::Q4_1: return detail::dequantize_q4_1(src, dst, nb);
    case DType::Q5_0: return detail::dequantize_q5_0(src, dst, nb);
    case DType::Q5_1: return detail::dequantize_q5_1(src, dst, nb);
    case DType::Q8_0: return detail::dequantize_q8_0(src, dst, nb);
    case DType::Q4_K: return detail::dequantize_q4_K(src, dst, nb);
    case DType::Q5_K: return detail::dequantize_q5_K(src, dst, nb);
    case DType::Q6_K: return detail::dequantize_q6_K(src, dst, nb);
    default: unsupported("dequantize_row", type, "dequantizer");
  }
}

void quantize_row(DType type, const float* src, void* dst, int64_t n) {
  const DTypeTraits& tr = traits(type);
  const int64_t nb = whole_blocks("quantize_row", type, n, tr.block_size);
  auto* bytes = static_cast<uint8_t*>(dst);
  switch (type) {
    case DType::F32:
      if (nb > 0) std::memcpy(dst, src, static_cast<size_t>(nb) * sizeof(float));
      return;
    case DType::F16:
    case DType::BF16:
      for (int64_t i = 0; i < nb; ++i) {
        const uint16_t h = type == DType::F16 ? f32_to_f16(src[i]) : f32_to_bf16(src[i]);
        std::memcpy(bytes + 2 * i, &h, 2);
      }
      return;
    case DType::Q4_0: return detail::quantize_q4_0(src, dst, nb);
    case DType::Q4_1: return detail::quantize_q4_1(src, dst, nb);
    case DType::Q5_0: return detail::quantize_q5_0(src, dst, nb);
    case DType::Q5_1: return detail::quantize_q5_1(src, dst, nb);
    case DType::Q8_0: return detail::quantize_q8_0(src, dst, nb);
    case DType::Q4_K: return detail::quantize_q4_K(src, dst, nb);
    case DType::Q5_K: return detail::quantize_q5_K(src, dst, nb);
    case DType::Q6_K: return detail::quantize_q6_K(src, dst, nb);
    default: unsupported("quantize_row", type, "quantizer");
  }
}

void quantize_row_q8_K(const float* x, block_q8_K* y, int64_t n) {
  detail::quantize_q8_K_blocks(x, y, whole_blocks("quantize_row_q8_K", DType::Q8_K, n, QK_K));
}

void dequantize_row_q8_K(const block_q8_K* x, float* y, int64_t n) {
  detail::dequantize_q8_K_blocks(x, y, whole_blocks("dequantize_row_q8_K", DType::Q8_K, n, QK_K));
}

}  // namespace paw
