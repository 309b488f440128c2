// write_lora_gguf: the file layout is checked with the plain GGUF reader (keys, names, ne,
// types), values come back through load_gguf within each type's quantization bound.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "adapter_test_util.hpp"
#include "paw/adapter/lora.hpp"
#include "paw/adapter/merge.hpp"
#include "paw/adapter/writer.hpp"
#include "paw/formats/gguf.hpp"
#include "common/test_env.hpp"

namespace paw {
namespace {

using test::expect_error;

LoraWeights random_weights(int64_t r, int64_t n_in, int64_t n_out, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  LoraWeights lw{r, n_in, n_out, {}, {}};
  lw.a.resize(r * n_in);
  lw.b.resize(n_out * r);
  for (auto& v : lw.a) v = nd(rng);
  for (auto& v : lw.b) v = 0.1f * nd(rng);
  return lw;
}

// Largest error a type's round trip may introduce in a block whose largest |value| is amax:
// Q8_0 rounds to amax/127 steps (±half a step, plus fp16 rounding of the scale), Q4_0 to
// amax/8 steps and may clip the extreme value by one step, F16 has 11 significant bits.
double bound(DType t, double amax) {
  switch (t) {
    case DType::F32: return 0.0;
    case DType::F16: return amax * std::ldexp(1.0, -11);
    case DType::Q8_0: return amax / 127.0 * 0.5 + amax * 1e-3;
    case DType::Q4_0: return amax / 8.0 * 1.0 + amax * 1e-3;
    default: return amax;
  }
}

// Compares stored rows against the source, block by block (32 values or the whole row).
void expect_close(const MatrixView& m, const std::vector<float>& src, DType t, const std::string& what) {
  ASSERT_EQ(m.type, t) << what;
  std::vector<float> got = dequantize_matrix(m);
  ASSERT_EQ(got.size(), src.size()) << what;
  const int64_t blk = (t == DType::Q8_0 || t == DType::Q4_0) ? 32 : m.cols;
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t b0 = 0; b0 < m.cols; b0 += blk) {
      double amax = 0;
      for (int64_t j = b0; j < b0 + blk; ++j) amax = std::max(amax, std::fabs(double(src[r * m.cols + j])));
      for (int64_t j = b0; j < b0 + blk; ++j) {
        const size_t i = r * m.cols + j;
        ASSERT_LE(std::fabs(double(got[i]) - src[i]), bound(t, amax) + 1e-12)
            << what << " row " << r << " col " << j;
      }
    }
}

class LoraWriterTypes : public ::testing::TestWithParam<DType> {};

TEST_P(LoraWriterTypes, LayoutAndRoundTrip) {
  const DType t = GetParam();
  std::map<std::string, LoraWeights> pairs;
  pairs["blk.0.attn_q.weight"] = random_weights(32, 64, 96, 1);
  pairs["blk.1.ffn_down.weight"] = random_weights(32, 96, 64, 2);
  const std::string path = test::scratch_dir("lora_writer") + "/out.gguf";
  write_lora_gguf(path, "qwen3", 16.0f, pairs, t);

  // Layout, read with the plain GGUF reader.
  GGUFFile f = GGUFFile::open(path);
  EXPECT_EQ(f.get_string("general.type"), "adapter");
  EXPECT_EQ(f.get_string("adapter.type"), "lora");
  EXPECT_EQ(f.get_string("general.architecture"), "qwen3");
  ASSERT_NE(f.find("adapter.lora.alpha"), nullptr);
  EXPECT_EQ(f.find("adapter.lora.alpha")->type(), GGUFType::FLOAT32);
  EXPECT_EQ(f.get_f64("adapter.lora.alpha"), 16.0);
  ASSERT_EQ(f.tensors().size(), 4u);
  const GGUFTensorInfo* a = f.find_tensor("blk.0.attn_q.weight.lora_a");
  const GGUFTensorInfo* b = f.find_tensor("blk.0.attn_q.weight.lora_b");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->ne, (std::vector<int64_t>{64, 32}));   // [n_in, r]
  EXPECT_EQ(b->ne, (std::vector<int64_t>{32, 96}));   // [r, n_out]
  EXPECT_EQ(a->type, t);
  EXPECT_EQ(b->type, t);

  // Values, through the adapter loader.
  auto ad = LoraAdapter::load_gguf(path);
  ASSERT_EQ(ad->pairs().size(), 2u);
  for (const auto& [name, lw] : pairs) {
    const LoraPair* p = ad->find(name);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_EQ(p->rank(), lw.rank);
    expect_close(p->a, lw.a, t, name + " A");
    expect_close(p->b, lw.b, t, name + " B");
  }
}

INSTANTIATE_TEST_SUITE_P(Types, LoraWriterTypes, ::testing::Values(DType::F32, DType::F16, DType::Q8_0, DType::Q4_0),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST(LoraWriter, F32IsBitExact) {
  std::map<std::string, LoraWeights> pairs{{"blk.0.attn_qkv.weight", random_weights(3, 5, 7, 3)}};
  const std::string path = test::scratch_dir("lora_writer") + "/f32.gguf";
  write_lora_gguf(path, "gpt2", 0.0f, pairs, DType::F32);
  auto ad = LoraAdapter::load_gguf(path);
  const LoraPair* p = ad->find("blk.0.attn_qkv.weight");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(dequantize_matrix(p->a), pairs.begin()->second.a);
  EXPECT_EQ(dequantize_matrix(p->b), pairs.begin()->second.b);
  EXPECT_EQ(ad->alpha(), 0.0f);
}

TEST(LoraWriter, Errors) {
  const std::string dir = test::scratch_dir("lora_writer_err");
  // Q4_0 needs the rank (lora_b's row length) to be a multiple of 32.
  std::map<std::string, LoraWeights> low_rank{{"blk.0.attn_q.weight", random_weights(8, 64, 64, 4)}};
  expect_error([&] { write_lora_gguf(dir + "/a.gguf", "qwen3", 16, low_rank, DType::Q4_0); },
               {"blk.0.attn_q.weight.lora_b", "multiple"});
  std::map<std::string, LoraWeights> bad = {{"blk.0.attn_q.weight", random_weights(2, 3, 4, 5)}};
  bad.begin()->second.b.pop_back();
  expect_error([&] { write_lora_gguf(dir + "/b.gguf", "qwen3", 16, bad, DType::F32); }, {"blk.0.attn_q.weight", "B holds"});
  std::map<std::string, LoraWeights> embd{{"token_embd.weight", random_weights(2, 3, 4, 6)}};
  expect_error([&] { write_lora_gguf(dir + "/c.gguf", "qwen3", 16, embd, DType::F32); }, {"token_embd.weight"});
  std::map<std::string, LoraWeights> ok{{"blk.0.attn_q.weight", random_weights(2, 3, 4, 7)}};
  expect_error([&] { write_lora_gguf(dir + "/d.gguf", "", 16, ok, DType::F32); }, {"architecture"});
}

}  // namespace
}  // namespace paw
