#pragma once
// Q4_0_X16 and Q8_0_X16: Q4_0 / Q8_0 weights with 16 rows interleaved block by block — in-memory
// layouts paw builds once (a model's linears at load, LoRA matrices when an adapter loads),
// never a file format.
//
// Why: a row-at-a-time kernel pays per row (decoding each block in place, a horizontal sum,
// a store), which dominates for short rows (LoRA B: one or two blocks) and keeps 4-bit types
// below memory speed. With 16 rows side by side, one 512-bit load gives four level bytes of
// each of 16 rows — the operand of one integer dot-product instruction — and one 256-bit load
// their 16 scales: the same bytes, no horizontal sums, a fraction of the instructions.
//
// Layout for `rows` × `cols` (cols a multiple of 32; nb = cols / 32 blocks per row). Rows go in
// groups of 16 (the last group padded with rows of zero scale and zero levels); group g holds
// rows 16g .. 16g+15 and occupies nb × B bytes from g·nb·B, B = 16 × the type's block size
// (Q4_0: 288, Q8_0: 544). Block b of the group, at b·B within it:
//   bytes [0, 32)          fp16 d of block b of rows 16g+0 .. 16g+15
//   Q4_0_X16: bytes [32 + 64m, +64), m = 0..3: for i = 0..15, four bytes: qs[4m .. 4m+4) of
//             block b of row 16g+i (low nibble = element 4m+k, high = element 16+4m+k)
//   Q8_0_X16: bytes [32 + 64m, +64), m = 0..7: for i = 0..15, four bytes: qs[4m .. 4m+4) of
//             block b of row 16g+i, each stored as the unsigned level q + 128 (q XOR 0x80),
//             the operand order of u8 × s8 dot products (ops/simd_matmul.hpp: offset 128)
// so per row exactly the stored type's bytes.
#include <cstddef>
#include <cstdint>

#include "paw/tensor/matrix_view.hpp"

namespace paw {

constexpr int64_t kInterleaveRows = 16;

// The interleaved layout of a stored type (Q4_0 → Q4_0_X16, Q8_0 → Q8_0_X16), or DType::F32
// when there is none; and back (the type each row reads as).
DType interleaved_type(DType stored);
DType stored_type(DType interleaved);
inline bool is_interleaved(DType t) { return t == DType::Q4_0_X16 || t == DType::Q8_0_X16; }
// Whether `m` can be interleaved: Q4_0 or Q8_0, at least one row, whole 32-value blocks.
bool interleavable(const MatrixView& m);

// Bytes of an interleaved matrix of rows × cols (rows rounded up to 16) of layout `x16`.
// Throws paw::Error unless cols is a positive multiple of 32.
size_t interleaved_bytes(DType x16, int64_t rows, int64_t cols);
// Writes the interleaved form of a Q4_0 or Q8_0 matrix to dst
// (interleaved_bytes(interleaved_type(src.type), src.rows, src.cols) bytes). Throws
// paw::Error for another type or cols not a multiple of 32.
void interleave(const MatrixView& src, uint8_t* dst);
// Row r of an interleaved matrix back in its stored type (row_bytes(stored_type(w.type),
// w.cols) bytes at dst) — the reference reading of the layout, bit for bit the row
// `interleave` was given.
void deinterleave_row(const MatrixView& w, int64_t r, uint8_t* dst);

}  // namespace paw
