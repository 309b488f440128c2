// LoraAdapter::load_gguf on hand-built adapter GGUFs (GGUFWriter with raw bytes, never
// paw's own LoRA writer): orientation of lora_a / lora_b for F32, F16, Q8_0 and Q4_0
// against B·(A·x) computed by hand, llama.cpp's naming rules, and the error corpus.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "adapter_test_util.hpp"
#include "paw/adapter/lora.hpp"
#include "paw/tensor/blocks.hpp"
#include "paw/tensor/quantize.hpp"
#include "common/test_env.hpp"

namespace paw {
namespace {

using test::adapter_writer;
using test::add_f32;
using test::expect_error;

// y = B·(A·x) read straight from the stored rows (dequantize_row + row_bytes stride), the
// way a forward pass reads them.
std::vector<double> apply_pair(const LoraPair& p, const std::vector<float>& x) {
  const size_t sa = *row_bytes(p.a.type, p.a.cols), sb = *row_bytes(p.b.type, p.b.cols);
  std::vector<float> row(std::max(p.a.cols, p.b.cols));
  std::vector<double> t(p.a.rows), y(p.b.rows);
  for (int64_t k = 0; k < p.a.rows; ++k) {
    dequantize_row(p.a.type, p.a.data + k * sa, row.data(), p.a.cols);
    for (int64_t j = 0; j < p.a.cols; ++j) t[k] += double(row[j]) * x[j];
  }
  for (int64_t o = 0; o < p.b.rows; ++o) {
    dequantize_row(p.b.type, p.b.data + o * sb, row.data(), p.b.cols);
    for (int64_t k = 0; k < p.b.cols; ++k) y[o] += double(row[k]) * t[k];
  }
  return y;
}

std::string write(GGUFWriter& w, const std::string& name) {
  std::string path = test::scratch_dir("lora_gguf") + "/" + name;
  w.write(path);
  return path;
}

// A = [[1,2,3],[4,5,6]] (r=2, n_in=3), B = [[1,0],[0,1],[1,1],[2,-1]] (n_out=4), x = [1,-1,2]:
// A·x = [5, 11], B·(A·x) = [5, 11, 16, -1].
const std::vector<float> kA = {1, 2, 3, 4, 5, 6};
const std::vector<float> kB = {1, 0, 0, 1, 1, 1, 2, -1};
const std::vector<float> kX = {1, -1, 2};
const std::vector<double> kY = {5, 11, 16, -1};

TEST(LoraGguf, F32OrientationMatchesHandComputedProduct) {
  GGUFWriter w = adapter_writer("qwen3", 4.0f);
  add_f32(w, "blk.0.attn_q.weight.lora_a", 2, 3, kA);   // ne [n_in=3, r=2]
  add_f32(w, "blk.0.attn_q.weight.lora_b", 4, 2, kB);   // ne [r=2, n_out=4]
  auto ad = LoraAdapter::load_gguf(write(w, "f32.gguf"));
  ASSERT_EQ(ad->pairs().size(), 1u);
  const LoraPair* p = ad->find("blk.0.attn_q.weight");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->rank(), 2);
  EXPECT_EQ(p->a.rows, 2);
  EXPECT_EQ(p->a.cols, 3);
  EXPECT_EQ(p->b.rows, 4);
  EXPECT_EQ(p->b.cols, 2);
  EXPECT_EQ(p->a.type, DType::F32);
  EXPECT_EQ(apply_pair(*p, kX), kY);
  EXPECT_EQ(ad->arch(), "qwen3");
  EXPECT_FLOAT_EQ(ad->alpha(), 4.0f);
  EXPECT_FLOAT_EQ(ad->pair_factor(*p), 2.0f);   // alpha / rank
  EXPECT_EQ(ad->find("blk.0.attn_k.weight"), nullptr);
}

TEST(LoraGguf, F16OrientationMatchesHandComputedProduct) {
  // IEEE half bit patterns of the values above, written out by hand.
  const std::vector<uint16_t> a = {0x3C00, 0x4000, 0x4200, 0x4400, 0x4500, 0x4600};
  const std::vector<uint16_t> b = {0x3C00, 0x0000, 0x0000, 0x3C00, 0x3C00, 0x3C00, 0x4000, 0xBC00};
  GGUFWriter w = adapter_writer();
  w.add_tensor("blk.1.ffn_down.weight.lora_a", DType::F16, {3, 2}, a.data(), a.size() * 2);
  w.add_tensor("blk.1.ffn_down.weight.lora_b", DType::F16, {2, 4}, b.data(), b.size() * 2);
  auto ad = LoraAdapter::load_gguf(write(w, "f16.gguf"));
  const LoraPair* p = ad->find("blk.1.ffn_down.weight");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->a.type, DType::F16);
  EXPECT_EQ(apply_pair(*p, kX), kY);
}

// Block types: n_in = r = 32 so both lora_a rows (n_in) and lora_b rows (r) are one block.
constexpr int kR = 32, kIn = 32, kOut = 3;

double ref_a_q8(int k, int j) { return ((3 * k + 5 * j) % 19) - 9; }
double ref_b_q8(int o, int k) { return ((7 * o + 3 * k) % 11) - 5; }
double ref_a_q4(int k, int j) { return 0.5 * (((2 * k + 3 * j) % 16) - 8); }
double ref_b_q4(int o, int k) { return 0.5 * (((5 * o + k) % 16) - 8); }

std::vector<float> block_x() {
  std::vector<float> x(kIn);
  for (int j = 0; j < kIn; ++j) x[j] = (j % 4) - 1.5f;
  return x;
}

std::vector<double> ref_product(double (*fa)(int, int), double (*fb)(int, int), const std::vector<float>& x) {
  std::vector<double> t(kR), y(kOut);
  for (int k = 0; k < kR; ++k)
    for (int j = 0; j < kIn; ++j) t[k] += fa(k, j) * x[j];
  for (int o = 0; o < kOut; ++o)
    for (int k = 0; k < kR; ++k) y[o] += fb(o, k) * t[k];
  return y;
}

// One Q8_0 block per row: d = 1.0 (fp16 0x3C00), qs = the integers themselves.
std::vector<block_q8_0> pack_q8(int rows, double (*f)(int, int)) {
  std::vector<block_q8_0> out(rows);
  for (int r = 0; r < rows; ++r) {
    out[r].d = 0x3C00;
    for (int j = 0; j < 32; ++j) out[r].qs[j] = static_cast<int8_t>(f(r, j));
  }
  return out;
}

// One Q4_0 block per row: d = 0.5 (fp16 0x3800); value = (q - 8)·d; element j in the low
// nibble of qs[j], element j+16 in the high nibble (ggml's layout).
std::vector<block_q4_0> pack_q4(int rows, double (*f)(int, int)) {
  std::vector<block_q4_0> out(rows);
  for (int r = 0; r < rows; ++r) {
    out[r].d = 0x3800;
    for (int j = 0; j < 16; ++j) {
      const int lo = static_cast<int>(f(r, j) / 0.5) + 8, hi = static_cast<int>(f(r, j + 16) / 0.5) + 8;
      out[r].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
  return out;
}

TEST(LoraGguf, Q8_0BlocksRunAlongRows) {
  auto a = pack_q8(kR, ref_a_q8), b = pack_q8(kOut, ref_b_q8);
  GGUFWriter w = adapter_writer("gpt2", 0.0f);
  w.add_tensor("blk.0.attn_qkv.weight.lora_a", DType::Q8_0, {kIn, kR}, a.data(), a.size() * sizeof(block_q8_0));
  w.add_tensor("blk.0.attn_qkv.weight.lora_b", DType::Q8_0, {kR, kOut}, b.data(), b.size() * sizeof(block_q8_0));
  auto ad = LoraAdapter::load_gguf(write(w, "q8.gguf"));
  const LoraPair* p = ad->find("blk.0.attn_qkv.weight");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->a.type, DType::Q8_0);
  EXPECT_EQ(p->rank(), kR);
  auto x = block_x();
  EXPECT_EQ(apply_pair(*p, x), ref_product(ref_a_q8, ref_b_q8, x));
  EXPECT_FLOAT_EQ(ad->pair_factor(*p), 1.0f);   // alpha 0 → no alpha/rank scaling
}

TEST(LoraGguf, Q4_0BlocksRunAlongRows) {
  auto a = pack_q4(kR, ref_a_q4), b = pack_q4(kOut, ref_b_q4);
  GGUFWriter w = adapter_writer("qwen3", 64.0f);
  w.add_tensor("blk.3.ffn_gate.weight.lora_a", DType::Q4_0, {kIn, kR}, a.data(), a.size() * sizeof(block_q4_0));
  w.add_tensor("blk.3.ffn_gate.weight.lora_b", DType::Q4_0, {kR, kOut}, b.data(), b.size() * sizeof(block_q4_0));
  auto ad = LoraAdapter::load_gguf(write(w, "q4.gguf"));
  const LoraPair* p = ad->find("blk.3.ffn_gate.weight");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->b.type, DType::Q4_0);
  auto x = block_x();
  EXPECT_EQ(apply_pair(*p, x), ref_product(ref_a_q4, ref_b_q4, x));
  EXPECT_FLOAT_EQ(ad->pair_factor(*p), 2.0f);   // 64 / 32
}

TEST(LoraGguf, ManyPairsInAnyOrderAndMixedTypes) {
  GGUFWriter w = adapter_writer();
  add_f32(w, "blk.1.attn_v.weight.lora_b", 4, 2, kB);
  add_f32(w, "blk.0.attn_k.weight.lora_a", 2, 3, kA);
  add_f32(w, "blk.1.attn_v.weight.lora_a", 2, 3, kA);
  const std::vector<uint16_t> b16 = {0x3C00, 0x0000, 0x0000, 0x3C00, 0x3C00, 0x3C00, 0x4000, 0xBC00};
  w.add_tensor("blk.0.attn_k.weight.lora_b", DType::F16, {2, 4}, b16.data(), b16.size() * 2);
  auto ad = LoraAdapter::load_gguf(write(w, "many.gguf"));
  ASSERT_EQ(ad->pairs().size(), 2u);
  EXPECT_EQ(ad->pairs().begin()->first, "blk.0.attn_k.weight");
  for (const auto& [name, p] : ad->pairs()) EXPECT_EQ(apply_pair(p, kX), kY) << name;
}

TEST(LoraGguf, NormTensorsAreIgnoredLikeLlamaCpp) {
  GGUFWriter w = adapter_writer();
  add_f32(w, "blk.0.attn_q.weight.lora_a", 2, 3, kA);
  add_f32(w, "blk.0.attn_q.weight.lora_b", 4, 2, kB);
  const std::vector<float> norm(3, 1.0f);
  w.add_tensor("blk.0.attn_norm.weight", DType::F32, {3}, norm.data(), 12);
  w.add_tensor("output_norm.weight", DType::F32, {3}, norm.data(), 12);
  auto ad = LoraAdapter::load_gguf(write(w, "norm.gguf"));
  EXPECT_EQ(ad->pairs().size(), 1u);
  EXPECT_EQ(ad->ignored_norm_tensors(), 2);
}

TEST(LoraGguf, OutputPairIsAnOrdinaryLinear) {
  GGUFWriter w = adapter_writer();
  add_f32(w, "output.weight.lora_a", 2, 3, kA);
  add_f32(w, "output.weight.lora_b", 4, 2, kB);
  auto ad = LoraAdapter::load_gguf(write(w, "output.gguf"));
  const LoraPair* p = ad->find("output.weight");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(apply_pair(*p, kX), kY);
}

TEST(LoraGguf, TokenEmbdPairKeepsLlamaCppsFlippedLayout) {
  // n_vocab = 3, n_embd = 4, r = 2: lora_a ne [r, n_vocab] (one r-vector per token),
  // lora_b ne [r, n_embd]. Delta for token t = B · a_row(t).
  const std::vector<float> a = {1, 2, 3, 4, 5, 6};           // tokens 0..2: [1,2], [3,4], [5,6]
  GGUFWriter w = adapter_writer("qwen3", 2.0f);
  add_f32(w, "token_embd.weight.lora_a", 3, 2, a);
  add_f32(w, "token_embd.weight.lora_b", 4, 2, kB);
  auto ad = LoraAdapter::load_gguf(write(w, "embd.gguf"));
  EXPECT_TRUE(ad->pairs().empty());
  const LoraEmbeddingPair* e = ad->embedding_pair();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->rank(), 2);
  EXPECT_EQ(e->a.rows, 3);
  EXPECT_EQ(e->b.rows, 4);
  EXPECT_FLOAT_EQ(ad->embedding_factor(), 1.0f);
  // Token 1: a_row = [3, 4]; B·[3,4] = [3, 4, 7, 2].
  const float* arow = reinterpret_cast<const float*>(e->a.data) + 1 * 2;
  const float* b = reinterpret_cast<const float*>(e->b.data);
  std::vector<float> delta(4);
  for (int o = 0; o < 4; ++o) delta[o] = b[o * 2] * arow[0] + b[o * 2 + 1] * arow[1];
  EXPECT_EQ(delta, (std::vector<float>{3, 4, 7, 2}));
}

TEST(LoraGguf, IdentityStorageAndAlphaDefaults) {
  GGUFWriter w = adapter_writer();
  add_f32(w, "blk.0.attn_q.weight.lora_a", 2, 3, kA);
  add_f32(w, "blk.0.attn_q.weight.lora_b", 4, 2, kB);
  std::string path = write(w, "id.gguf");
  std::string out;
  ASSERT_EQ(test::run_command("sha256sum '" + path + "'", &out), 0);
  auto ad = LoraAdapter::load(path);   // dispatch: a file → GGUF
  EXPECT_EQ(ad->sha256(), out.substr(0, 64));
  EXPECT_EQ(ad->path(), path);
  // The mapping stays alive with the adapter, even once the file is gone.
  std::filesystem::remove(path);
  EXPECT_EQ(apply_pair(*ad->find("blk.0.attn_q.weight"), kX), kY);

  // llama.cpp reads a missing adapter.lora.alpha as 0.
  GGUFWriter w2;
  w2.set("general.architecture", GGUFValue::string("gpt2"));
  w2.set("general.type", GGUFValue::string("adapter"));
  w2.set("adapter.type", GGUFValue::string("lora"));
  add_f32(w2, "blk.0.attn_qkv.weight.lora_a", 2, 3, kA);
  add_f32(w2, "blk.0.attn_qkv.weight.lora_b", 4, 2, kB);
  auto ad2 = LoraAdapter::load_gguf(write(w2, "noalpha.gguf"));
  EXPECT_EQ(ad2->alpha(), 0.0f);
  EXPECT_EQ(ad2->pair_factor(*ad2->find("blk.0.attn_qkv.weight")), 1.0f);
}

// From bytes in memory (a bundle's adapter member): the same pairs and hash as from the file,
// views inside the given bytes (kept alive by the adapter), errors naming the given name.
TEST(LoraGguf, FromBytesInMemory) {
  GGUFWriter w = adapter_writer();
  add_f32(w, "blk.0.attn_q.weight.lora_a", 2, 3, kA);
  add_f32(w, "blk.0.attn_q.weight.lora_b", 4, 2, kB);
  const std::string path = write(w, "bytes.gguf");
  std::string out;
  ASSERT_EQ(test::run_command("sha256sum '" + path + "'", &out), 0);
  std::ifstream in(path, std::ios::binary);
  auto bytes = std::make_shared<std::vector<uint8_t>>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  const uint8_t* lo = bytes->data();
  const uint8_t* hi = lo + bytes->size();
  std::filesystem::remove(path);
  auto ad = LoraAdapter::from_gguf_bytes(bytes, "bundle.paw: adapter.gguf");
  bytes.reset();   // the adapter holds them now
  EXPECT_EQ(ad->sha256(), out.substr(0, 64));
  EXPECT_EQ(ad->path(), "bundle.paw: adapter.gguf");
  const LoraPair* p = ad->find("blk.0.attn_q.weight");
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->a.data >= lo && p->a.data < hi) << "the views point into the given bytes";
  EXPECT_EQ(apply_pair(*p, kX), kY);

  GGUFWriter bad = adapter_writer();
  add_f32(bad, "blk.0.attn_q.weight.lora_a", 2, 3, kA);
  const std::string bad_path = write(bad, "bytes_bad.gguf");
  std::ifstream bin(bad_path, std::ios::binary);
  auto bad_bytes = std::make_shared<const std::vector<uint8_t>>(std::istreambuf_iterator<char>(bin), std::istreambuf_iterator<char>());
  expect_error([&] { LoraAdapter::from_gguf_bytes(bad_bytes, "x.paw: adapter.gguf"); },
               {"x.paw: adapter.gguf", "blk.0.attn_q.weight.lora_a", "no matching .lora_b"});
  expect_error([&] { LoraAdapter::from_gguf_bytes(std::make_shared<const std::vector<uint8_t>>(10, 0), "empty"); }, {"empty"});
}

// ---- error corpus: each error names the file and the tensor or key ----

TEST(LoraGgufErrors, UnpairedLoraA) {
  GGUFWriter w = adapter_writer();
  add_f32(w, "blk.0.attn_q.weight.lora_a", 2, 3, kA);
  std::string path = write(w, "unpaired.gguf");
  expect_error([&] { LoraAdapter::load_gguf(path); }, {path, "blk.0.attn_q.weight.lora_a", "no matching .lora_b"});
}

TEST(LoraGgufErrors, UnpairedLoraB) {
  GGUFWriter w = adapter_writer();
  add_f32(w, "blk.0.attn_q.weight.lora_b", 4, 2, kB);
  std::string path = write(w, "unpaired_b.gguf");
  expect_error([&] { LoraAdapter::load_gguf(path); }, {path, "blk.0.attn_q.weight.lora_b", "no matching .lora_a"});
}

TEST(LoraGgufErrors, RankMismatch) {
  GGUFWriter w = adapter_writer();
  add_f32(w, "blk.0.attn_q.weight.lora_a", 2, 3, kA);                   // r = 2
  add_f32(w, "blk.0.attn_q.weight.lora_b", 2, 4, kB);                   // ne [4, 2]: r = 4
  std::string path = write(w, "rank.gguf");
  expect_error([&] { LoraAdapter::load_gguf(path); }, {path, "blk.0.attn_q.weight.lora_b", "rank mismatch"});
}

TEST(LoraGgufErrors, OneDimensionalTensor) {
  GGUFWriter w = adapter_writer();
  w.add_tensor("blk.0.attn_q.weight.lora_a", DType::F32, {6}, kA.data(), 24);
  add_f32(w, "blk.0.attn_q.weight.lora_b", 4, 2, kB);
  std::string path = write(w, "onedim.gguf");
  expect_error([&] { LoraAdapter::load_gguf(path); }, {path, "blk.0.attn_q.weight.lora_a", "1-D"});
}

TEST(LoraGgufErrors, ThreeDimensionalTensor) {
  GGUFWriter w = adapter_writer();
  std::vector<float> v(12, 1.0f);
  w.add_tensor("blk.0.attn_q.weight.lora_a", DType::F32, {3, 2, 2}, v.data(), 48);
  add_f32(w, "blk.0.attn_q.weight.lora_b", 4, 2, kB);
  std::string path = write(w, "threedim.gguf");
  expect_error([&] { LoraAdapter::load_gguf(path); }, {path, "blk.0.attn_q.weight.lora_a", "3 dimensions"});
}

TEST(LoraGgufErrors, UnknownSuffix) {
  GGUFWriter w = adapter_writer();
  add_f32(w, "blk.0.attn_q.weight", 2, 3, kA);
  std::string path = write(w, "suffix.gguf");
  expect_error([&] { LoraAdapter::load_gguf(path); }, {path, "blk.0.attn_q.weight", "unexpected suffix"});
}

TEST(LoraGgufErrors, WrongGeneralType) {
  GGUFWriter w = adapter_writer();
  w.set("general.type", GGUFValue::string("model"));
  add_f32(w, "blk.0.attn_q.weight.lora_a", 2, 3, kA);
  add_f32(w, "blk.0.attn_q.weight.lora_b", 4, 2, kB);
  std::string path = write(w, "model.gguf");
  expect_error([&] { LoraAdapter::load_gguf(path); }, {path, "general.type", "'model'", "model file"});
}

TEST(LoraGgufErrors, MissingGeneralType) {
  GGUFWriter w;
  w.set("general.architecture", GGUFValue::string("qwen3"));
  add_f32(w, "blk.0.attn_q.weight.lora_a", 2, 3, kA);
  add_f32(w, "blk.0.attn_q.weight.lora_b", 4, 2, kB);
  std::string path = write(w, "notype.gguf");
  expect_error([&] { LoraAdapter::load_gguf(path); }, {path, "general.type"});
}

TEST(LoraGgufErrors, WrongAdapterType) {
  GGUFWriter w = adapter_writer();
  w.set("adapter.type", GGUFValue::string("control_vector"));
  std::string path = write(w, "cvec.gguf");
  expect_error([&] { LoraAdapter::load_gguf(path); }, {path, "adapter.type", "'control_vector'"});
}

TEST(LoraGgufErrors, MissingArchitecture) {
  GGUFWriter w;
  w.set("general.type", GGUFValue::string("adapter"));
  w.set("adapter.type", GGUFValue::string("lora"));
  std::string path = write(w, "noarch.gguf");
  expect_error([&] { LoraAdapter::load_gguf(path); }, {path, "general.architecture"});
}

TEST(LoraGgufErrors, NonFiniteOrMistypedAlpha) {
  GGUFWriter w = adapter_writer();
  w.set("adapter.lora.alpha", GGUFValue::f32(std::nanf("")));
  std::string path = write(w, "nan.gguf");
  expect_error([&] { LoraAdapter::load_gguf(path); }, {path, "adapter.lora.alpha", "finite"});
  GGUFWriter w2 = adapter_writer();
  w2.set("adapter.lora.alpha", GGUFValue::string("16"));
  std::string path2 = write(w2, "stralpha.gguf");
  expect_error([&] { LoraAdapter::load_gguf(path2); }, {path2, "adapter.lora.alpha", "string"});
}

TEST(LoraGgufErrors, TokenEmbdRankMismatch) {
  GGUFWriter w = adapter_writer();
  add_f32(w, "token_embd.weight.lora_a", 2, 3, kA);   // ne [3, 2]: r would be 3
  add_f32(w, "token_embd.weight.lora_b", 4, 2, kB);   // ne [2, 4]: r = 2
  std::string path = write(w, "embd_rank.gguf");
  expect_error([&] { LoraAdapter::load_gguf(path); }, {path, "token_embd.weight.lora_a", "rank mismatch"});
}

TEST(LoraGgufErrors, ArchHintMismatchAndMissingFile) {
  GGUFWriter w = adapter_writer("gpt2");
  std::string path = write(w, "hint.gguf");
  expect_error([&] { LoraAdapter::load(path, "qwen3"); }, {path, "'gpt2'", "'qwen3'"});
  EXPECT_EQ(LoraAdapter::load(path, "gpt2")->arch(), "gpt2");
  expect_error([&] { LoraAdapter::load_gguf(path + ".missing"); }, {path + ".missing"});
}

}  // namespace
}  // namespace paw
