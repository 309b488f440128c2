// ModelLoadOptions::interleave: which weights get a Q4_0_X16 / Q8_0_X16 copy at load, that each copy
// holds exactly the file's rows, that nothing else changes, and that both loads compute the
// numpy reference's logits on every kernel table.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "model/forward_harness.hpp"
#include "common/model_test_util.hpp"
#include "paw/ops/kernels.hpp"
#include "paw/tensor/interleave.hpp"
#include "paw/tensor/quantize.hpp"

namespace paw {
namespace {

using test::fixture;

const AdapterBinding kNoAdapters;

bool interleaving_table() { return &kernels() != &scalar_kernels(); }

std::shared_ptr<const Model> load(const std::string& path, bool interleave) {
  ModelLoadOptions o;
  o.interleave = interleave;
  return Model::load(path, o);
}

bool inside_file(const Model& m, const void* p) {
  const GGUFFile& g = *m.gguf();
  for (const auto& t : g.tensors())
    if (p >= static_cast<const void*>(t.data) && p < static_cast<const void*>(t.data + t.n_bytes)) return true;
  return false;
}

// Every row of w's kernel copy read back is byte for byte the file's row.
void expect_copy_holds_the_file(const WeightRef& w) {
  SCOPED_TRACE(w.name);
  ASSERT_EQ(w.kernel.type, w.view.type == DType::Q8_0 ? DType::Q8_0_X16 : DType::Q4_0_X16);
  ASSERT_EQ(w.kernel.rows, w.view.rows);
  ASSERT_EQ(w.kernel.cols, w.view.cols);
  EXPECT_NE(w.kernel.data, w.view.data);
  const size_t stride = *row_bytes(w.view.type, w.view.cols);
  std::vector<uint8_t> row(stride);
  for (int64_t r = 0; r < w.view.rows; ++r) {
    deinterleave_row(w.kernel, r, row.data());
    ASSERT_EQ(std::memcmp(row.data(), w.view.data + static_cast<size_t>(r) * stride, stride), 0) << "row " << r;
  }
}

class InterleaveStoredType : public ::testing::TestWithParam<const char*> {};

TEST_P(InterleaveStoredType, LinearsAndTheTiedHeadGetACopyOfTheirFileRows) {
  const DType stored = *dtype_from_name(GetParam());
  const std::string path = fixture(std::string("model --arch qwen3 --preset tiny --seed 21 --type ") + GetParam());
  const auto m = load(path, true);
  const auto plain = load(path, false);
  const ModelWeights& w = m->weights();
  ASSERT_TRUE(m->tied_head());
  if (!interleaving_table()) {  // PAW_CPU=scalar: nothing is copied
    EXPECT_EQ(m->interleaved_bytes(), 0u);
    for (const LinearInfo& li : m->linears()) EXPECT_EQ(li.kernel.data, li.view.data);
    GTEST_SKIP() << "scalar kernel table";
  }
  uint64_t expected_bytes = 0;
  for (const LinearInfo& li : m->linears()) {
    const WeightRef* r = m->find_weight(li.name);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->view.type, stored);  // the stored view is the file's
    EXPECT_TRUE(inside_file(*m, r->view.data));
    expect_copy_holds_the_file(*r);
    EXPECT_EQ(li.kernel.data, r->kernel.data);
    expected_bytes += interleaved_bytes(r->kernel.type, r->view.rows, r->view.cols);
  }
  expect_copy_holds_the_file(w.token_embd);
  EXPECT_EQ(m->head_kernel().data, w.token_embd.kernel.data);
  EXPECT_EQ(m->head().data, w.token_embd.view.data);
  expected_bytes += interleaved_bytes(w.token_embd.kernel.type, w.token_embd.view.rows, w.token_embd.view.cols);
  EXPECT_EQ(m->interleaved_bytes(), expected_bytes);
  // Norm weights are copied out of the mapping too (the forward pass never reads the file).
  for (const LayerWeights& l : w.layers)
    for (const WeightRef* v : {&l.attn_norm, &l.ffn_norm, &l.attn_q_norm, &l.attn_k_norm}) {
      ASSERT_TRUE(v->present());
      EXPECT_FALSE(inside_file(*m, v->f32)) << v->name;
      EXPECT_EQ(std::memcmp(v->f32, v->view.data, static_cast<size_t>(v->view.cols) * sizeof(float)), 0) << v->name;
    }
  // Size accounting is the file's, either way.
  EXPECT_EQ(m->weight_bytes(), plain->weight_bytes());
  EXPECT_EQ(m->n_params(), plain->n_params());
  // Without the option every weight is used in place.
  EXPECT_EQ(plain->interleaved_bytes(), 0u);
  for (const LinearInfo& li : plain->linears()) {
    EXPECT_EQ(li.kernel.data, li.view.data) << li.name;
    EXPECT_EQ(li.kernel.type, stored) << li.name;
  }
  EXPECT_EQ(plain->head_kernel().data, plain->weights().token_embd.view.data);
}
INSTANTIATE_TEST_SUITE_P(Types, InterleaveStoredType, ::testing::Values("q4_0", "q8_0"));

TEST(InterleaveWeights, OnlyQ4_0AndQ8_0AreCopiedAndAnUntiedEmbeddingStaysInTheFile) {
  if (!interleaving_table()) GTEST_SKIP() << "scalar kernel table";
  // q4_0 linears, a q8_0 embedding table (looked up only: no copy) and a q6_K output head.
  const std::string path =
      fixture("model --arch qwen3 --preset tiny --type q4_0 --embd-type q8_0 --untied --output-type q6_K --seed 22");
  const auto m = load(path, true);
  const ModelWeights& w = m->weights();
  ASSERT_FALSE(m->tied_head());
  EXPECT_EQ(w.token_embd.kernel.data, nullptr);
  EXPECT_EQ(w.token_embd.kernel_view().data, w.token_embd.view.data);
  EXPECT_EQ(w.output.kernel.data, nullptr);
  EXPECT_EQ(m->head_kernel().type, DType::Q6_K);
  for (const LayerWeights& l : w.layers) expect_copy_holds_the_file(l.ffn_down);
}

TEST(InterleaveWeights, AModelWithoutQ4_0OrQ8_0StaysEntirelyInTheFile) {
  const auto m = load(fixture("model --arch qwen3 --preset tiny --type q6_K --seed 26"), true);
  EXPECT_EQ(m->interleaved_bytes(), 0u);
  for (const LinearInfo& li : m->linears()) EXPECT_EQ(li.kernel.data, li.view.data) << li.name;
  for (const LayerWeights& l : m->weights().layers) EXPECT_TRUE(inside_file(*m, l.attn_norm.f32)) << l.attn_norm.name;
}

// Both loads against the float64 reference, every kernel table, batch and token by token.
TEST(InterleaveWeights, BothLoadsMatchTheReference) {
  for (const char* args : {"model --arch qwen3 --preset tiny --type q4_0 --std 0.15 --seed 23",
                           "model --arch qwen3 --preset tiny --type q8_0 --std 0.15 --seed 27",
                           "model --arch gpt2 --preset tiny --type q4_0 --std 0.15 --seed 24",
                           "model --arch llama --preset tiny --type q4_0 --untied --std 0.15 --seed 25"}) {
    const std::string path = fixture(args);
    ASSERT_FALSE(path.empty());
    for (bool interleave : {true, false}) {
      const auto m = load(path, interleave);
      const auto tokens = test::sample_tokens(10, static_cast<int32_t>(m->hparams().n_vocab), 3);
      const auto ref = test::reference(path, tokens);
      for (const KernelTable* kt : test::tables_to_test())
        for (int64_t n_batch : {int64_t{64}, int64_t{1}}) {
          test::PawArgs pa;
          pa.kt = kt;
          pa.n_batch = n_batch;
          const auto got = run_paw(*m, tokens, kNoAdapters, pa);
          test::expect_logits_near(got.logits.data(), ref.logits, test::logit_tolerance(m->head().type, *kt),
                                   std::string(args) + (interleave ? " interleaved" : " in place") + " [" +
                                       kt->name + "] batch " + std::to_string(n_batch));
        }
    }
  }
}

}  // namespace
}  // namespace paw
