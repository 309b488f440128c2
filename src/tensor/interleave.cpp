// Q4_0 <-> Q4_0_X16 and Q8_0 <-> Q8_0_X16 (layouts in paw/tensor/interleave.hpp).
#include "paw/tensor/interleave.hpp"

#include <cstring>
#include <string>

#include "paw/tensor/blocks.hpp"
#include "paw/tensor/dtype.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

// One layout: the stored block's size and how many 64-byte level vectors a group block has.
struct Layout {
  size_t block_bytes;  // sizeof(block_q4_0) or sizeof(block_q8_0)
  int level_vectors;   // 4 (two nibbles per byte) or 8
  uint8_t level_xor;   // applied to every stored level byte: 0, or 0x80 for Q8_0 (q + 128)
  size_t group_block() const { return static_cast<size_t>(kInterleaveRows) * block_bytes; }
};

Layout layout_of(DType x16, const char* where) {
  if (x16 == DType::Q4_0_X16) return {sizeof(block_q4_0), 4, 0};
  if (x16 == DType::Q8_0_X16) return {sizeof(block_q8_0), 8, 0x80};
  throw Error(std::string(dtype_name(x16)) + " is not an interleaved layout", where);
}

void check_cols(int64_t cols, const char* where) {
  if (cols <= 0 || cols % 32 != 0)
    throw Error("interleaving: " + std::to_string(cols) + " columns is not a positive multiple of 32", where,
                "only whole blocks can be interleaved");
}

// Offset of block b of row r's group.
size_t group_block(const Layout& l, int64_t cols, int64_t r, int64_t b) {
  const int64_t nb = cols / 32, g = r / kInterleaveRows;
  return static_cast<size_t>(g * nb + b) * l.group_block();
}

}  // namespace

DType interleaved_type(DType stored) {
  if (stored == DType::Q4_0) return DType::Q4_0_X16;
  if (stored == DType::Q8_0) return DType::Q8_0_X16;
  return DType::F32;
}

DType stored_type(DType interleaved) {
  if (interleaved == DType::Q4_0_X16) return DType::Q4_0;
  if (interleaved == DType::Q8_0_X16) return DType::Q8_0;
  return DType::F32;
}

bool interleavable(const MatrixView& m) {
  return interleaved_type(m.type) != DType::F32 && m.rows > 0 && m.cols > 0 && m.cols % 32 == 0;
}

size_t interleaved_bytes(DType x16, int64_t rows, int64_t cols) {
  const Layout l = layout_of(x16, "tensor::interleaved_bytes");
  check_cols(cols, "tensor::interleaved_bytes");
  const int64_t groups = (rows + kInterleaveRows - 1) / kInterleaveRows;
  return static_cast<size_t>(groups * (cols / 32)) * l.group_block();
}

void interleave(const MatrixView& src, uint8_t* dst) {
  const DType x16 = interleaved_type(src.type);
  if (x16 == DType::F32)
    throw Error("cannot interleave " + std::string(dtype_name(src.type)) + " rows (only q4_0 and q8_0)",
                "tensor::interleave");
  const Layout l = layout_of(x16, "tensor::interleave");
  check_cols(src.cols, "tensor::interleave");
  std::memset(dst, 0, interleaved_bytes(x16, src.rows, src.cols));  // padding rows: d = 0
  const int64_t nb = src.cols / 32;
  const size_t qs_off = l.block_bytes - static_cast<size_t>(4 * l.level_vectors);  // after the fp16 d
  for (int64_t r = 0; r < src.rows; ++r) {
    const int64_t i = r % kInterleaveRows;
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = src.data + static_cast<size_t>(r * nb + b) * l.block_bytes;
      uint8_t* out = dst + group_block(l, src.cols, r, b);
      std::memcpy(out + 2 * i, blk, 2);  // d
      for (int m = 0; m < l.level_vectors; ++m)
        for (int k = 0; k < 4; ++k) out[32 + 64 * m + 4 * i + k] = blk[qs_off + 4 * m + k] ^ l.level_xor;
    }
  }
}

void deinterleave_row(const MatrixView& w, int64_t r, uint8_t* dst) {
  const Layout l = layout_of(w.type, "tensor::deinterleave_row");
  check_cols(w.cols, "tensor::deinterleave_row");
  const int64_t nb = w.cols / 32, i = r % kInterleaveRows;
  const size_t qs_off = l.block_bytes - static_cast<size_t>(4 * l.level_vectors);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* in = w.data + group_block(l, w.cols, r, b);
    uint8_t* blk = dst + static_cast<size_t>(b) * l.block_bytes;
    std::memcpy(blk, in + 2 * i, 2);
    for (int m = 0; m < l.level_vectors; ++m)
      for (int k = 0; k < 4; ++k) blk[qs_off + 4 * m + k] = in[32 + 64 * m + 4 * i + k] ^ l.level_xor;
  }
}

}  // namespace paw
