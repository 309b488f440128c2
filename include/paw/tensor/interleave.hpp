#pragma once
// Q4_0_X16: Q4_0 weights with 16 rows interleaved block by block — an in-memory layout paw
// builds once (LoRA matrices when adapters are attached), never a file format.
//
// Why: a Q4_0 row of a LoRA B matrix ([n_out, rank]) holds one or two blocks, too short for a
// row-at-a-time kernel to pay its per-row costs, and a LoRA A row is multiplied while the
// fixed cost of decoding each block's nibbles in place dominates. With 16 rows side by side,
// one 512-bit load gives four nibble bytes of each of 16 rows — the operand of one integer
// dot-product instruction per nibble half — and one 256-bit load their 16 scales: the same
// bytes as Q4_0, no horizontal sums, a quarter of the instructions.
//
// Layout for `rows` × `cols` (cols a multiple of 32; nb = cols / 32 blocks per row). Rows go in
// groups of 16 (the last group padded with rows of zero scale and zero nibbles); group g holds
// rows 16g .. 16g+15 and occupies nb × 288 bytes from g·nb·288. Block b of the group, at
// b·288 within it:
//   bytes [0, 32)          fp16 d of block b of rows 16g+0 .. 16g+15
//   bytes [32 + 64m, +64)  m = 0..3: for i = 0..15, four bytes: qs[4m .. 4m+4) of block b of
//                          row 16g+i (low nibble = element 4m+k, high = element 16+4m+k)
// so 288 = 16 × sizeof(block_q4_0): per row, exactly Q4_0's bytes.
#include <cstddef>
#include <cstdint>

#include "paw/tensor/matrix_view.hpp"

namespace paw {

constexpr int64_t kInterleaveRows = 16;

// Bytes of a Q4_0_X16 matrix of rows × cols (rows rounded up to 16). cols % 32 == 0.
size_t interleaved_bytes(int64_t rows, int64_t cols);

// Writes the Q4_0_X16 form of a Q4_0 matrix to dst (interleaved_bytes(src.rows, src.cols)
// bytes). Throws paw::Error for another type or cols not a multiple of 32.
void interleave_q4_0(const MatrixView& src, uint8_t* dst);

// Row r of a Q4_0_X16 matrix back as a Q4_0 row (row_bytes(Q4_0, w.cols) bytes at dst) — the
// reference reading of the layout, bit for bit the row interleave_q4_0 was given.
void deinterleave_row_q4_0(const MatrixView& w, int64_t r, uint8_t* dst);

}  // namespace paw
