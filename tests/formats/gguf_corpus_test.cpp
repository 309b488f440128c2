// The fuzz seed corpus (fuzz/corpus/fuzz_gguf, written by fuzz/gguf_make_seeds.py — a Python
// GGUF writer independent of paw's) must open through mmap with exactly the content the
// generator put in.
#include <gtest/gtest.h>

#include <cstring>

#include "paw/formats/gguf.hpp"
#include "common/test_env.hpp"

using paw::DType;
using paw::GGUFFile;
using paw::GGUFType;

namespace {
std::string seed(const std::string& name) {
  return paw::test::source_dir() + "/fuzz/corpus/fuzz_gguf/" + name;
}
}  // namespace

TEST(GGUFCorpus, Minimal) {
  auto f = GGUFFile::open(seed("minimal.gguf"));
  EXPECT_EQ(f.version(), 3u);
  EXPECT_TRUE(f.metadata().empty());
  EXPECT_TRUE(f.tensors().empty());
}

TEST(GGUFCorpus, AllTypes) {
  auto f = GGUFFile::open(seed("all_types.gguf"));
  EXPECT_EQ(f.metadata().size(), 18u);
  EXPECT_EQ(f.get_string("general.architecture"), "seed");
  EXPECT_EQ(f.get("t.u8").type(), GGUFType::UINT8);
  EXPECT_EQ(f.get_u64("t.u8"), 200u);
  EXPECT_EQ(f.get("t.i8").as_i64(), -7);
  EXPECT_EQ(f.get_u64("t.u16"), 65535u);
  EXPECT_EQ(f.get("t.i16").as_i64(), -300);
  EXPECT_EQ(f.get_u64("t.u32"), 4000000000u);
  EXPECT_EQ(f.get("t.i32").as_i64(), -123456);
  EXPECT_EQ(f.get_f64("t.f32"), 0.5);
  EXPECT_TRUE(f.get("t.bool").as_bool());
  EXPECT_EQ(f.get_string("t.str"), "h\xC3\xA9llo \xE4\xB8\x96\xE7\x95\x8C");
  EXPECT_EQ(f.get_string("t.empty"), "");
  EXPECT_EQ(f.get_u64("t.u64"), UINT64_MAX);
  EXPECT_EQ(f.get("t.i64").as_i64(), INT64_MIN);
  EXPECT_EQ(f.get_f64("t.f64"), -1.25);
  EXPECT_EQ(f.get("t.arr.i32").as_int_array(), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(f.get("t.arr.str").as_string_array(), (std::vector<std::string>{"a", "", "\xC4\xA0" "b"}));
  EXPECT_EQ(f.get("t.arr.empty").elem_type(), GGUFType::FLOAT32);
  EXPECT_TRUE(f.get("t.arr.empty").as_array().empty());
  const auto& n = f.get("t.arr.nested").as_array();
  ASSERT_EQ(n.size(), 3u);
  EXPECT_EQ(n[0].as_int_array(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(n[1].as_string_array(), (std::vector<std::string>{"x"}));
  EXPECT_EQ(n[2].elem_type(), GGUFType::BOOL);
}

TEST(GGUFCorpus, TensorsWithAlignment64) {
  auto f = GGUFFile::open(seed("tensors_align64.gguf"));
  EXPECT_EQ(f.alignment(), 64u);
  ASSERT_EQ(f.tensors().size(), 4u);
  const auto* e = f.find_tensor("token_embd.weight");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->type, DType::F32);
  EXPECT_EQ(e->ne, (std::vector<int64_t>{4, 2}));
  float v[8];
  std::memcpy(v, e->data, sizeof v);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(v[i], 0.5f * i - 1) << i;
  const auto* q = f.find_tensor("blk.0.attn_q.weight");
  EXPECT_EQ(q->type, DType::Q8_0);
  EXPECT_EQ(q->offset, 64u);
  EXPECT_EQ(q->n_bytes, 68u);
  EXPECT_EQ(q->data[2 + 3], 21);
  const auto* k = f.find_tensor("blk.0.ffn_down.weight");
  EXPECT_EQ(k->type, DType::Q4_K);
  EXPECT_EQ(k->offset, 192u);
  EXPECT_EQ(k->n_bytes, 144u);
  const auto* h = f.find_tensor("output_norm.weight");
  EXPECT_EQ(h->type, DType::F16);
  EXPECT_EQ(h->offset, 384u);
  EXPECT_EQ(h->file_offset + 64, f.file_size());
}

TEST(GGUFCorpus, TokenizerV2) {
  auto f = GGUFFile::open(seed("tokenizer_v2.gguf"));
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(f.get("tokenizer.ggml.tokens").as_string_array().size(), 5u);
  EXPECT_EQ(f.get("tokenizer.ggml.token_type").as_int_array()[0], 3);
  EXPECT_EQ(f.get_u64("tokenizer.ggml.eos_token_id"), 0u);
  ASSERT_EQ(f.tensors().size(), 1u);
  EXPECT_EQ(f.tensors()[0].ne, (std::vector<int64_t>{32, 1, 1, 1}));
  EXPECT_EQ(f.tensors()[0].type, DType::Q4_0);
}
