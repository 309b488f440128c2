// Reads GGUF images assembled byte by byte from the published spec (not by paw's writer), so
// the reader is shown to follow the format itself rather than whatever the writer does.
#include <gtest/gtest.h>

#include <cstring>

#include "gguf_bytes.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/util/error.hpp"

using paw::DType;
using paw::GGUFFile;
using paw::GGUFType;
using paw::test::GgufBytes;

namespace {

struct Assembled {
  GgufBytes g;
  size_t data_offset = 0;
};

// v2/v3 image: 4 keys (incl. a nested array and general.alignment = 64), an f32 tensor and a
// q8_0 tensor of two blocks.
Assembled assemble(uint32_t version) {
  Assembled a;
  GgufBytes& g = a.g;
  g.header(version, 2, 4);
  g.kv_str("general.architecture", "qwen3");
  g.kv_u32("general.alignment", 64);
  g.key("x.arr", 9).u32(3 /* i16 */).u64(2).u16(1).u16(0xFFFE);
  g.key("x.nested", 9).u32(9 /* array */).u64(2);
  g.u32(8 /* string */).u64(2).str("hi").str("");  // ["hi", ""]
  g.u32(6 /* f32 */).u64(0);                        // []
  g.tensor("a", {3}, 0 /* f32 */, 0);
  g.tensor("b", {32, 2}, 8 /* q8_0 */, 64);
  g.pad(64);
  a.data_offset = g.size();
  g.f32(1.0f).f32(2.0f).f32(-3.5f);
  g.pad(64);
  // Two q8_0 blocks: fp16 scale then 32 int8 quants.
  g.u16(0x3C00);  // 1.0
  for (int i = 0; i < 32; ++i) g.u8(static_cast<uint8_t>(i));
  g.u16(0xC000);  // -2.0
  for (int i = 0; i < 32; ++i) g.u8(static_cast<uint8_t>(-i));
  return a;
}

void check(const GGUFFile& f, const Assembled& a, uint32_t version) {
  EXPECT_EQ(f.version(), version);
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.data_offset(), a.data_offset);
  EXPECT_EQ(f.data_offset() % 64, 0u);
  EXPECT_EQ(f.get_string("general.architecture"), "qwen3");
  EXPECT_EQ(f.get("x.arr").as_int_array(), (std::vector<int64_t>{1, -2}));
  EXPECT_EQ(f.get("x.arr").elem_type(), GGUFType::INT16);
  const auto& nested = f.get("x.nested");
  ASSERT_EQ(nested.elem_type(), GGUFType::ARRAY);
  ASSERT_EQ(nested.as_array().size(), 2u);
  EXPECT_EQ(nested.as_array()[0].as_string_array(), (std::vector<std::string>{"hi", ""}));
  EXPECT_EQ(nested.as_array()[1].elem_type(), GGUFType::FLOAT32);
  EXPECT_TRUE(nested.as_array()[1].as_array().empty());

  ASSERT_EQ(f.tensors().size(), 2u);
  const auto& ta = f.tensors()[0];
  EXPECT_EQ(ta.name, "a");
  EXPECT_EQ(ta.type, DType::F32);
  EXPECT_EQ(ta.ne, (std::vector<int64_t>{3}));
  EXPECT_EQ(ta.n_bytes, 12u);
  EXPECT_EQ(ta.file_offset, a.data_offset);
  float v[3];
  std::memcpy(v, ta.data, 12);
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[1], 2.0f);
  EXPECT_EQ(v[2], -3.5f);

  const auto& tb = f.tensors()[1];
  EXPECT_EQ(tb.name, "b");
  EXPECT_EQ(tb.type, DType::Q8_0);
  EXPECT_EQ(tb.ne, (std::vector<int64_t>{32, 2}));
  EXPECT_EQ(tb.n_bytes, 68u);
  EXPECT_EQ(tb.rows(), 2);
  EXPECT_EQ(tb.n_elements(), 64);
  EXPECT_EQ(tb.offset, 64u);
  EXPECT_EQ(tb.file_offset, a.data_offset + 64);
  EXPECT_EQ(tb.data, f.tensors()[0].data + 64);
  EXPECT_EQ(tb.data[0], 0x00);
  EXPECT_EQ(tb.data[1], 0x3C);
  EXPECT_EQ(tb.data[2 + 5], 5);
  EXPECT_EQ(tb.data[34], 0x00);
  EXPECT_EQ(tb.data[35], 0xC0);
  EXPECT_EQ(static_cast<int8_t>(tb.data[36 + 7]), -7);
}

}  // namespace

TEST(GGUFLayout, ReadsHandAssembledV3) {
  auto a = assemble(3);
  auto f = GGUFFile::parse(a.g.b, "hand.gguf");
  check(f, a, 3);
}

TEST(GGUFLayout, ReadsHandAssembledV2) {
  // v2 and v3 share the little-endian layout (v3 only allowed big-endian files).
  auto a = assemble(2);
  auto f = GGUFFile::parse(a.g.b, "hand2.gguf");
  check(f, a, 2);
}

TEST(GGUFLayout, DefaultAlignmentIs32AndEmptyDataSectionMayBeAbsent) {
  GgufBytes g;
  g.header(3, 0, 1).kv_str("general.name", "\xE2\x9C\x93");  // no tensors, no trailing padding
  auto f = GGUFFile::parse(g.b, "kv-only.gguf");
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.get_string("general.name"), "\xE2\x9C\x93");
  EXPECT_TRUE(f.tensors().empty());

  GgufBytes e;
  e.header(3, 0, 0);  // the smallest valid file: 24 bytes
  auto fe = GGUFFile::parse(e.b, "empty.gguf");
  EXPECT_TRUE(fe.metadata().empty());
  EXPECT_EQ(fe.data_offset(), 32u);
}

TEST(GGUFLayout, ZeroSizedTensorAndAlignedGapAreAccepted) {
  // Offsets need only be aligned and inside the file: a gap (offset 64 for the first
  // tensor) is legal GGUF even though llama.cpp's writer never produces one.
  GgufBytes g;
  g.header(3, 2, 0);
  g.tensor("gap", {4}, 0, 64);
  g.tensor("none", {0, 5}, 2 /* q4_0: 0 elements is a whole number of blocks */, 96);
  g.pad(32);
  size_t data = g.size();
  g.zeros(64).f32(1).f32(2).f32(3).f32(4).zeros(16);
  auto f = GGUFFile::parse(g.b, "gap.gguf");
  EXPECT_EQ(f.data_offset(), data);
  EXPECT_EQ(f.tensors()[0].file_offset, data + 64);
  EXPECT_EQ(f.tensors()[1].n_bytes, 0u);
  EXPECT_EQ(f.tensors()[1].file_offset, data + 96);
  EXPECT_EQ(f.tensors()[1].file_offset, f.file_size());  // empty tensor at end-of-file is fine
}

TEST(GGUFLayout, KnownButUnsupportedTypeLoadsAndIsNamed) {
  GgufBytes g;
  g.header(3, 1, 0);
  g.tensor("blk.0.ffn_down.weight", {256, 2}, 10 /* q2_K */, 0);
  g.pad(32).zeros(2 * 84);
  auto f = GGUFFile::parse(g.b, "q2k.gguf");
  const auto& t = f.tensors()[0];
  EXPECT_EQ(t.type, DType::Q2_K);
  EXPECT_EQ(t.n_bytes, 168u);
  EXPECT_EQ(paw::dtype_name(t.type), "q2_K");
  EXPECT_FALSE(paw::traits(t.type).can_dequantize);
}
