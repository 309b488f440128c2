// GGUFWriter::add_tensor_f32: F32 source encoded row by row by the reference quantizer.
// Inputs are chosen so the expected blocks can be written down by hand from ggml's published
// Q8_0 / Q4_0 formulas (scales come out exactly 1.0 or 2.0).
#include <gtest/gtest.h>

#include <cstring>

#include "paw/formats/gguf.hpp"
#include "paw/util/error.hpp"

using paw::DType;
using paw::GGUFFile;
using paw::GGUFWriter;

TEST(GGUFQuantize, F32IsStoredBitExact) {
  GGUFWriter w;
  const float v[6] = {1.0f, -0.0f, 3.25f, 1e-30f, -7.5f, 65504.5f};
  w.add_tensor_f32("w", DType::F32, {3, 2}, v);
  auto bytes = w.to_bytes();
  auto f = GGUFFile::parse(bytes, "f32.gguf");
  ASSERT_EQ(f.tensors().size(), 1u);
  EXPECT_EQ(f.tensors()[0].n_bytes, sizeof v);
  EXPECT_EQ(std::memcmp(f.tensors()[0].data, v, sizeof v), 0);
}

TEST(GGUFQuantize, F16OfExactlyRepresentableValues) {
  GGUFWriter w;
  const float v[4] = {1.0f, -2.0f, 0.5f, 65504.0f};
  w.add_tensor_f32("h", DType::F16, {4}, v);
  auto bytes = w.to_bytes();
  auto f = GGUFFile::parse(bytes, "f16.gguf");
  const uint8_t* d = f.tensors()[0].data;
  const uint8_t want[8] = {0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38, 0xFF, 0x7B};  // little-endian binary16
  EXPECT_EQ(std::memcmp(d, want, 8), 0);
}

TEST(GGUFQuantize, Q8_0RowsAreQuantizedSeparately) {
  // Row 0: amax 127 -> d = 1, q = x.  Row 1: amax 254 -> d = 2, q = x / 2.
  float v[64];
  v[0] = -127.0f;
  for (int i = 1; i < 32; ++i) v[i] = static_cast<float>(i - 16);
  v[32] = 254.0f;
  for (int i = 1; i < 32; ++i) v[32 + i] = static_cast<float>(2 * (i - 16));
  GGUFWriter w;
  w.add_tensor_f32("q", DType::Q8_0, {32, 2}, v);
  auto bytes = w.to_bytes();
  auto f = GGUFFile::parse(bytes, "q8.gguf");
  const auto& t = f.tensors()[0];
  ASSERT_EQ(t.n_bytes, 68u);
  const uint8_t* b = t.data;
  EXPECT_EQ(b[0], 0x00);  // fp16 1.0 = 0x3C00
  EXPECT_EQ(b[1], 0x3C);
  EXPECT_EQ(static_cast<int8_t>(b[2]), -127);
  for (int i = 1; i < 32; ++i) EXPECT_EQ(static_cast<int8_t>(b[2 + i]), i - 16) << i;
  EXPECT_EQ(b[34], 0x00);  // fp16 2.0 = 0x4000
  EXPECT_EQ(b[35], 0x40);
  EXPECT_EQ(static_cast<int8_t>(b[36]), 127);
  for (int i = 1; i < 32; ++i) EXPECT_EQ(static_cast<int8_t>(b[36 + i]), i - 16) << i;
}

TEST(GGUFQuantize, Q4_0NibbleLayout) {
  // ggml q4_0: max = the value of largest magnitude (sign kept), d = max / -8, so with max = -8
  // d = 1 and q = x + 8. Element j goes to the low nibble of qs[j % 16] for j < 16, to the
  // high nibble for j >= 16.
  float v[32];
  for (int j = 0; j < 32; ++j) v[j] = static_cast<float>((j % 16) - 8);  // -8..7 twice
  v[16] = 3.0f;
  GGUFWriter w;
  w.add_tensor_f32("q", DType::Q4_0, {32}, v);
  auto bytes = w.to_bytes();
  auto f = GGUFFile::parse(bytes, "q4.gguf");
  const uint8_t* b = f.tensors()[0].data;
  EXPECT_EQ(b[0], 0x00);
  EXPECT_EQ(b[1], 0x3C);
  for (int j = 0; j < 16; ++j) {
    int lo = j, hi = j + 16;
    int q_lo = static_cast<int>(v[lo]) + 8, q_hi = static_cast<int>(v[hi]) + 8;
    EXPECT_EQ(b[2 + j], static_cast<uint8_t>(q_lo | (q_hi << 4))) << j;
  }
}

TEST(GGUFQuantize, RefusesTypesPawCannotEncodeAndBadShapes) {
  GGUFWriter w;
  float v[256] = {};
  EXPECT_THROW(w.add_tensor_f32("k2", DType::Q2_K, {256}, v), paw::Error);
  EXPECT_THROW(w.add_tensor_f32("q", DType::Q8_0, {16}, v), paw::Error);  // half a block
  EXPECT_THROW(w.add_tensor_f32("d", DType::F32, {}, v), paw::Error);
  EXPECT_NO_THROW(w.add_tensor_f32("e", DType::Q8_0, {0, 4}, v));  // empty tensor: nothing to encode
}
