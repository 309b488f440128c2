// Q4_0_X16 and Q8_0_X16 (paw/tensor/interleave.hpp): the bytes sit where the header's layout
// says, every row comes back unchanged, padding rows are zero, and the layouts are not file types.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "paw/tensor/blocks.hpp"
#include "paw/tensor/dtype.hpp"
#include "paw/tensor/interleave.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

// Arbitrary bytes are a valid Q4_0 matrix as far as the layout is concerned.
std::vector<uint8_t> random_q4_0(int64_t rows, int64_t cols, uint32_t seed) {
  std::vector<uint8_t> v(static_cast<size_t>(rows * cols / 32) * 18);
  std::mt19937 rng(seed);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

TEST(Interleave, BytesWhereTheLayoutPutsThem) {
  const int64_t rows = 37, cols = 96, nb = 3;  // three groups, the last with 5 real rows
  const auto src = random_q4_0(rows, cols, 1);
  std::vector<uint8_t> dst(interleaved_bytes(DType::Q4_0_X16, rows, cols), 0xAB);
  ASSERT_EQ(dst.size(), 48u * nb * 18);  // rows rounded up to 48
  interleave(MatrixView{DType::Q4_0, rows, cols, src.data()}, dst.data());
  for (int64_t r = 0; r < 48; ++r)
    for (int64_t b = 0; b < nb; ++b) {
      const size_t base = static_cast<size_t>((r / 16) * nb + b) * 288;
      const size_t i = static_cast<size_t>(r % 16);
      const uint8_t* blk = src.data() + static_cast<size_t>(r * nb + b) * 18;  // only read when r < rows
      for (int k = 0; k < 2; ++k)
        EXPECT_EQ(dst[base + 2 * i + k], r < rows ? blk[k] : 0) << "d byte " << k << " row " << r << " block " << b;
      for (int m = 0; m < 4; ++m)
        for (int k = 0; k < 4; ++k)
          EXPECT_EQ(dst[base + 32 + 64 * m + 4 * i + k], r < rows ? blk[2 + 4 * m + k] : 0)
              << "qs byte " << 4 * m + k << " row " << r << " block " << b;
    }
}

TEST(Interleave, Q8_0BytesWhereTheLayoutPutsThem) {
  const int64_t rows = 21, cols = 64, nb = 2;  // two groups, the last with 5 real rows
  std::vector<uint8_t> src(static_cast<size_t>(rows * nb) * 34);
  std::mt19937 rng(7);
  for (auto& b : src) b = static_cast<uint8_t>(rng());
  std::vector<uint8_t> dst(interleaved_bytes(DType::Q8_0_X16, rows, cols), 0xAB);
  ASSERT_EQ(dst.size(), 32u * nb * 34);
  interleave(MatrixView{DType::Q8_0, rows, cols, src.data()}, dst.data());
  for (int64_t r = 0; r < 32; ++r)
    for (int64_t b = 0; b < nb; ++b) {
      const size_t base = static_cast<size_t>((r / 16) * nb + b) * 544;
      const size_t i = static_cast<size_t>(r % 16);
      const uint8_t* blk = src.data() + static_cast<size_t>(r * nb + b) * 34;
      for (int k = 0; k < 2; ++k)
        EXPECT_EQ(dst[base + 2 * i + k], r < rows ? blk[k] : 0) << "d byte " << k << " row " << r << " block " << b;
      for (int m = 0; m < 8; ++m)
        for (int k = 0; k < 4; ++k)  // the signed level q as the unsigned byte q + 128; padding 0
          EXPECT_EQ(dst[base + 32 + 64 * m + 4 * i + k], r < rows ? static_cast<uint8_t>(blk[2 + 4 * m + k] + 128) : 0)
              << "qs byte " << 4 * m + k << " row " << r << " block " << b;
    }
  const MatrixView w{DType::Q8_0_X16, rows, cols, dst.data()};
  std::vector<uint8_t> row(static_cast<size_t>(nb) * 34);
  for (int64_t r = 0; r < rows; ++r) {
    deinterleave_row(w, r, row.data());
    EXPECT_EQ(0, std::memcmp(row.data(), src.data() + r * row.size(), row.size())) << "row " << r;
  }
  EXPECT_EQ(interleaved_type(DType::Q8_0), DType::Q8_0_X16);
  EXPECT_EQ(stored_type(DType::Q8_0_X16), DType::Q8_0);
  EXPECT_EQ(interleaved_type(DType::Q6_K), DType::F32);  // no layout
}

TEST(Interleave, EveryRowComesBack) {
  for (int64_t rows : {1, 15, 16, 17, 64}) {
    const int64_t cols = 64;
    const auto src = random_q4_0(rows, cols, static_cast<uint32_t>(rows));
    std::vector<uint8_t> dst(interleaved_bytes(DType::Q4_0_X16, rows, cols));
    interleave(MatrixView{DType::Q4_0, rows, cols, src.data()}, dst.data());
    const MatrixView w{DType::Q4_0_X16, rows, cols, dst.data()};
    std::vector<uint8_t> row(static_cast<size_t>(cols / 32) * 18);
    for (int64_t r = 0; r < rows; ++r) {
      deinterleave_row(w, r, row.data());
      EXPECT_EQ(0, std::memcmp(row.data(), src.data() + r * row.size(), row.size())) << "rows " << rows << " row " << r;
    }
  }
}

TEST(Interleave, SameBytesAsQ4_0ForWholeGroups) {
  EXPECT_EQ(interleaved_bytes(DType::Q4_0_X16, 64, 1024), *row_bytes(DType::Q4_0, 1024) * 64);
  EXPECT_EQ(*row_bytes(DType::Q4_0_X16, 64), *row_bytes(DType::Q4_0, 64));
}

TEST(Interleave, RefusesWhatItCannotLayOut) {
  std::vector<uint8_t> buf(4096);
  EXPECT_THROW(interleave(MatrixView{DType::Q4_1, 16, 32, buf.data()}, buf.data()), Error);
  EXPECT_TRUE(interleavable(MatrixView{DType::Q4_0, 1, 32, buf.data()}));
  EXPECT_TRUE(interleavable(MatrixView{DType::Q8_0, 17, 64, buf.data()}));
  EXPECT_FALSE(interleavable(MatrixView{DType::Q4_1, 16, 32, buf.data()}));
  EXPECT_FALSE(interleavable(MatrixView{DType::Q4_0, 16, 48, buf.data()}));
  EXPECT_FALSE(interleavable(MatrixView{DType::Q4_0, 0, 32, buf.data()}));
  EXPECT_THROW(interleaved_bytes(DType::Q4_0_X16, 16, 48), Error);
  EXPECT_THROW(interleaved_bytes(DType::Q4_0_X16, 16, 0), Error);
  EXPECT_THROW(interleave(MatrixView{DType::Q6_K, 16, 256, buf.data()}, buf.data()), Error);
  EXPECT_THROW(interleaved_bytes(DType::Q8_0, 16, 32), Error);  // a stored type, not a layout
}

TEST(Interleave, NotAFileType) {
  // GGUF readers look types up by id, the CLI by name: neither may produce the in-memory layout.
  EXPECT_FALSE(dtype_traits(static_cast<uint32_t>(DType::Q4_0_X16)).has_value());
  EXPECT_FALSE(dtype_from_name("q4_0x16").has_value());
  EXPECT_TRUE(traits(DType::Q4_0_X16).in_memory_only);
  EXPECT_EQ(dtype_name(DType::Q4_0_X16), "q4_0x16");
  EXPECT_FALSE(dtype_traits(static_cast<uint32_t>(DType::Q8_0_X16)).has_value());
  EXPECT_FALSE(dtype_from_name("q8_0x16").has_value());
  EXPECT_TRUE(traits(DType::Q8_0_X16).in_memory_only);
}

}  // namespace
}  // namespace paw
