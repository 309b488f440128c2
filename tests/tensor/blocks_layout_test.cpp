// Block structs must be byte-for-byte ggml's (ggml-common.h): GGUF tensor data is read by
// casting, so every field offset below is the published one.
#include <gtest/gtest.h>

#include <cstddef>
#include <type_traits>

#include "paw/tensor/blocks.hpp"
#include "paw/tensor/dtype.hpp"

namespace paw {
namespace {

template <class T>
constexpr bool plain_block = std::is_standard_layout_v<T> && std::is_trivially_copyable_v<T>;

TEST(BlockLayout, LegacyBlocks) {
  static_assert(plain_block<block_q4_0> && plain_block<block_q4_1> && plain_block<block_q5_0> &&
                plain_block<block_q5_1> && plain_block<block_q8_0>);
  // Q4_0: fp16 d, 16 bytes of nibbles.
  EXPECT_EQ(sizeof(block_q4_0), 18u);
  EXPECT_EQ(offsetof(block_q4_0, d), 0u);
  EXPECT_EQ(offsetof(block_q4_0, qs), 2u);
  // Q4_1: d, m, nibbles.
  EXPECT_EQ(sizeof(block_q4_1), 20u);
  EXPECT_EQ(offsetof(block_q4_1, d), 0u);
  EXPECT_EQ(offsetof(block_q4_1, m), 2u);
  EXPECT_EQ(offsetof(block_q4_1, qs), 4u);
  // Q5_0: d, 4 bytes of fifth bits, nibbles.
  EXPECT_EQ(sizeof(block_q5_0), 22u);
  EXPECT_EQ(offsetof(block_q5_0, d), 0u);
  EXPECT_EQ(offsetof(block_q5_0, qh), 2u);
  EXPECT_EQ(offsetof(block_q5_0, qs), 6u);
  // Q5_1: d, m, qh, nibbles.
  EXPECT_EQ(sizeof(block_q5_1), 24u);
  EXPECT_EQ(offsetof(block_q5_1, d), 0u);
  EXPECT_EQ(offsetof(block_q5_1, m), 2u);
  EXPECT_EQ(offsetof(block_q5_1, qh), 4u);
  EXPECT_EQ(offsetof(block_q5_1, qs), 8u);
  // Q8_0: d, 32 int8.
  EXPECT_EQ(sizeof(block_q8_0), 34u);
  EXPECT_EQ(offsetof(block_q8_0, d), 0u);
  EXPECT_EQ(offsetof(block_q8_0, qs), 2u);
  // fp16-only blocks are 2-byte aligned so arrays of them pack with no padding.
  EXPECT_EQ(alignof(block_q4_0), 2u);
  EXPECT_EQ(alignof(block_q8_0), 2u);
}

TEST(BlockLayout, KQuantBlocks) {
  static_assert(plain_block<block_q4_K> && plain_block<block_q5_K> && plain_block<block_q6_K> &&
                plain_block<block_q8_K>);
  EXPECT_EQ(QK_K, 256);
  EXPECT_EQ(K_SCALE_SIZE, 12);
  // Q4_K: d, dmin, 12 packed scale bytes, 128 bytes of nibbles.
  EXPECT_EQ(sizeof(block_q4_K), 144u);
  EXPECT_EQ(offsetof(block_q4_K, d), 0u);
  EXPECT_EQ(offsetof(block_q4_K, dmin), 2u);
  EXPECT_EQ(offsetof(block_q4_K, scales), 4u);
  EXPECT_EQ(offsetof(block_q4_K, qs), 16u);
  // Q5_K: as Q4_K with 32 bytes of fifth bits before the nibbles.
  EXPECT_EQ(sizeof(block_q5_K), 176u);
  EXPECT_EQ(offsetof(block_q5_K, d), 0u);
  EXPECT_EQ(offsetof(block_q5_K, dmin), 2u);
  EXPECT_EQ(offsetof(block_q5_K, scales), 4u);
  EXPECT_EQ(offsetof(block_q5_K, qh), 16u);
  EXPECT_EQ(offsetof(block_q5_K, qs), 48u);
  // Q6_K: the scale d comes last.
  EXPECT_EQ(sizeof(block_q6_K), 210u);
  EXPECT_EQ(offsetof(block_q6_K, ql), 0u);
  EXPECT_EQ(offsetof(block_q6_K, qh), 128u);
  EXPECT_EQ(offsetof(block_q6_K, scales), 192u);
  EXPECT_EQ(offsetof(block_q6_K, d), 208u);
  EXPECT_EQ(alignof(block_q6_K), 2u);
  // Q8_K: float d, 256 int8, 16 int16 sums.
  EXPECT_EQ(sizeof(block_q8_K), 292u);
  EXPECT_EQ(offsetof(block_q8_K, d), 0u);
  EXPECT_EQ(offsetof(block_q8_K, qs), 4u);
  EXPECT_EQ(offsetof(block_q8_K, bsums), 260u);
}

TEST(BlockLayout, TraitsAgreeWithStructs) {
  EXPECT_EQ(traits(DType::Q4_0).type_size, sizeof(block_q4_0));
  EXPECT_EQ(traits(DType::Q4_1).type_size, sizeof(block_q4_1));
  EXPECT_EQ(traits(DType::Q5_0).type_size, sizeof(block_q5_0));
  EXPECT_EQ(traits(DType::Q5_1).type_size, sizeof(block_q5_1));
  EXPECT_EQ(traits(DType::Q8_0).type_size, sizeof(block_q8_0));
  EXPECT_EQ(traits(DType::Q4_K).type_size, sizeof(block_q4_K));
  EXPECT_EQ(traits(DType::Q5_K).type_size, sizeof(block_q5_K));
  EXPECT_EQ(traits(DType::Q6_K).type_size, sizeof(block_q6_K));
  EXPECT_EQ(traits(DType::Q8_K).type_size, sizeof(block_q8_K));
  EXPECT_EQ(traits(DType::Q4_K).block_size, 256);
  EXPECT_EQ(traits(DType::Q8_0).block_size, 32);
  // A Qwen3-0.6B Q6_K FFN row of 3072 values is 12 super-blocks.
  EXPECT_EQ(row_bytes(DType::Q6_K, 3072), 12u * 210u);
  EXPECT_FALSE(row_bytes(DType::Q4_0, 33).has_value());
}

}  // namespace
}  // namespace paw
