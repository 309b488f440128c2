// Q4_0 <-> Q4_0_X16 (layout in paw/tensor/interleave.hpp).
#include "paw/tensor/interleave.hpp"

#include <cstring>
#include <string>

#include "paw/tensor/blocks.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

constexpr size_t kGroupBlockBytes = kInterleaveRows * sizeof(block_q4_0);  // 288

void check_cols(int64_t cols, const char* where) {
  if (cols <= 0 || cols % QK4_0 != 0)
    throw Error("Q4_0_X16: " + std::to_string(cols) + " columns is not a positive multiple of 32", where,
                "only whole Q4_0 blocks can be interleaved");
}

// Offset of block b of row r's group.
size_t group_block(int64_t cols, int64_t r, int64_t b) {
  const int64_t nb = cols / QK4_0, g = r / kInterleaveRows;
  return static_cast<size_t>(g * nb + b) * kGroupBlockBytes;
}

}  // namespace

size_t interleaved_bytes(int64_t rows, int64_t cols) {
  check_cols(cols, "tensor::interleaved_bytes");
  const int64_t groups = (rows + kInterleaveRows - 1) / kInterleaveRows;
  return static_cast<size_t>(groups * (cols / QK4_0)) * kGroupBlockBytes;
}

void interleave_q4_0(const MatrixView& src, uint8_t* dst) {
  if (src.type != DType::Q4_0)
    throw Error("Q4_0_X16: source is " + std::string(dtype_name(src.type)) + ", not q4_0", "tensor::interleave_q4_0");
  check_cols(src.cols, "tensor::interleave_q4_0");
  std::memset(dst, 0, interleaved_bytes(src.rows, src.cols));  // padding rows: d = 0, nibbles 0
  const int64_t nb = src.cols / QK4_0;
  const auto* rows = reinterpret_cast<const block_q4_0*>(src.data);
  for (int64_t r = 0; r < src.rows; ++r) {
    const int64_t i = r % kInterleaveRows;
    for (int64_t b = 0; b < nb; ++b) {
      const block_q4_0& blk = rows[r * nb + b];
      uint8_t* out = dst + group_block(src.cols, r, b);
      std::memcpy(out + 2 * i, &blk.d, 2);
      for (int m = 0; m < 4; ++m) std::memcpy(out + 32 + 64 * m + 4 * i, blk.qs + 4 * m, 4);
    }
  }
}

void deinterleave_row_q4_0(const MatrixView& w, int64_t r, uint8_t* dst) {
  check_cols(w.cols, "tensor::deinterleave_row_q4_0");
  const int64_t nb = w.cols / QK4_0, i = r % kInterleaveRows;
  auto* out = reinterpret_cast<block_q4_0*>(dst);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* in = w.data + group_block(w.cols, r, b);
    std::memcpy(&out[b].d, in + 2 * i, 2);
    for (int m = 0; m < 4; ++m) std::memcpy(out[b].qs + 4 * m, in + 32 + 64 * m + 4 * i, 4);
  }
}

}  // namespace paw
