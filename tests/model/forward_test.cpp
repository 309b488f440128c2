// Qwen3, Llama and GPT-2 forward passes against the independent float64 numpy reference
// (tests/reference/ref_forward.py), on random fixture models of every weight type.
#include <gtest/gtest.h>

#include <string>

#include "model/forward_harness.hpp"
#include "common/model_test_util.hpp"

namespace paw {
namespace {

using test::fixture;
using test::reference;
using test::run_paw;
using test::sample_tokens;

const AdapterBinding kNoAdapters;

void check_against_reference(const std::string& fixture_args, DType type, size_t n_tokens = 12) {
  SCOPED_TRACE(fixture_args);
  const std::string path = fixture(fixture_args);
  ASSERT_FALSE(path.empty());
  const auto m = Model::load(path);
  const auto tokens = sample_tokens(n_tokens, static_cast<int32_t>(m->hparams().n_vocab), 7);
  const auto ref = reference(path, tokens);
  ASSERT_EQ(ref.logits.size(), n_tokens);
  for (const KernelTable* kt : test::tables_to_test()) {
    test::PawArgs pa;
    pa.kt = kt;
    const auto got = run_paw(*m, tokens, kNoAdapters, pa);
    test::expect_logits_near(got.logits.data(), ref.logits, test::logit_tolerance(type, *kt),
                             fixture_args + " [" + kt->name + "]");
  }
}

TEST(Forward, Qwen3TinyF32MatchesReferenceAtEveryPosition) {
  check_against_reference("model --arch qwen3 --preset tiny --type f32 --seed 1", DType::F32);
}

TEST(Forward, Qwen3HeadDimDifferentFromEmbdOverHeads) {
  const std::string args = "model --arch qwen3 --preset tiny-hd --type f32 --seed 2";
  const auto m = Model::load(fixture(args));
  const HParams& hp = m->hparams();
  ASSERT_NE(hp.head_dim_k, hp.n_embd / hp.n_head);  // the point of this preset
  EXPECT_EQ(hp.q_dim(), 512);
  check_against_reference(args, DType::F32);
}

// Llama: no per-head norms, interleaved RoPE (the reference pairs 2i with 2i + 1 on its own).
TEST(Forward, LlamaMatchesReference) {
  check_against_reference("model --arch llama --preset tiny --type f32 --seed 12", DType::F32);
  check_against_reference("model --arch llama --preset tiny-hd --type q8_0 --std 0.15 --seed 13", DType::Q8_0);
  check_against_reference("model --arch llama --preset tiny --type q4_K --std 0.15 --seed 14", DType::Q4_K);
}

TEST(Forward, LlamaRopeIsInterleavedAndQwen3NeoX) {
  const auto llama = Model::load(fixture("model --arch llama --preset tiny --type f32 --seed 12"));
  const auto qwen3 = Model::load(fixture("model --arch qwen3 --preset tiny --type f32 --seed 1"));
  EXPECT_EQ(llama->hparams().rope_style, RopeStyle::Interleaved);
  EXPECT_EQ(qwen3->hparams().rope_style, RopeStyle::Neox);
  EXPECT_FALSE(llama->weights().layers[0].attn_q_norm.present());
}

TEST(Forward, Gpt2TinyF32MatchesReference) {
  check_against_reference("model --arch gpt2 --preset tiny --type f32 --seed 3", DType::F32);
}

TEST(Forward, UntiedOutputAndMixedTypes) {
  // Linears Q4_K, embeddings Q8_0, a separate Q6_K output head, norms F32 (as real files mix).
  check_against_reference("model --arch qwen3 --preset tiny --type q4_K --embd-type q8_0 --untied --output-type q6_K --seed 4",
                          DType::Q4_K);
}

class ForwardWeightType : public ::testing::TestWithParam<const char*> {};

TEST_P(ForwardWeightType, Qwen3MatchesDequantizedReference) {
  const DType type = *dtype_from_name(GetParam());
  check_against_reference(std::string("model --arch qwen3 --preset tiny --seed 5 --type ") + GetParam(), type);
}

INSTANTIATE_TEST_SUITE_P(Types, ForwardWeightType,
                         ::testing::Values("f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_K", "q5_K", "q6_K"),
                         [](const auto& info) { return std::string(info.param); });

TEST(Forward, Gpt2QuantizedMatchesReference) {
  // std 0.15: at 0.25 a random GPT-2 (no Q/K norm) has attention scores of std ~16, a near
  // hard-max that amplifies the SIMD tables' activation rounding well past a few percent.
  check_against_reference("model --arch gpt2 --preset tiny --type q8_0 --std 0.15 --seed 6", DType::Q8_0);
  check_against_reference("model --arch gpt2 --preset tiny --type q6_K --embd-type f16 --std 0.15 --seed 6", DType::Q6_K);
  check_against_reference("model --arch gpt2 --preset tiny --type q4_0 --std 0.15 --seed 6", DType::Q4_0);
}

TEST(Forward, F16CacheMatchesReferenceWithRoundedKV) {
  for (const char* arch : {"qwen3", "gpt2"}) {
    const std::string path = fixture(std::string("model --preset tiny --type f32 --seed 8 --arch ") + arch);
    const auto m = Model::load(path);
    const auto tokens = sample_tokens(10, static_cast<int32_t>(m->hparams().n_vocab), 3);
    test::RefArgs ra;
    ra.kv_f16 = true;
    const auto ref = reference(path, tokens, ra);
    for (const KernelTable* kt : test::tables_to_test()) {
      test::PawArgs pa;
      pa.kv = DType::F16;
      pa.kt = kt;
      const auto got = run_paw(*m, tokens, kNoAdapters, pa);
      test::expect_logits_near(got.logits.data(), ref.logits, test::logit_tolerance(DType::F32, *kt),
                               std::string(arch) + " F16 KV [" + kt->name + "]");
    }
  }
}

TEST(Forward, BatchPrefillEqualsTokenByTokenDecode) {
  for (const char* arch : {"qwen3", "llama", "gpt2"}) {
    const std::string path = fixture(std::string("model --preset tiny --type q8_0 --std 0.15 --seed 9 --arch ") + arch);
    const auto m = Model::load(path);
    const auto tokens = sample_tokens(11, static_cast<int32_t>(m->hparams().n_vocab), 4);
    const auto ref = reference(path, tokens);
    for (const KernelTable* kt : test::tables_to_test()) {
      const std::string tag = std::string(arch) + " [" + kt->name + "] ";
      const auto tol = test::logit_tolerance(DType::Q8_0, *kt);
      test::PawArgs batch, single, chunked;
      batch.kt = single.kt = chunked.kt = kt;
      single.n_batch = 1;
      chunked.n_batch = 4;
      const auto a = run_paw(*m, tokens, kNoAdapters, batch);
      const auto b = run_paw(*m, tokens, kNoAdapters, single);
      const auto c = run_paw(*m, tokens, kNoAdapters, chunked);
      test::expect_logits_near(a.logits.data(), ref.logits, tol, tag + "batch");
      test::expect_logits_near(b.logits.data(), ref.logits, tol, tag + "token by token");
      test::expect_logits_near(c.logits.data(), ref.logits, tol, tag + "chunks of 4");
      if (kt == &scalar_kernels()) {  // the reference kernels give the same numbers however the batch is cut
        for (size_t i = 0; i < a.logits.size(); ++i) ASSERT_NEAR(a.logits[i], b.logits[i], 1e-4) << tag << i;
      }
    }
  }
}

TEST(Forward, HiddenStatesMatchReference) {
  for (const char* arch : {"qwen3", "gpt2"}) {
    const std::string path = fixture(std::string("model --preset tiny --type f32 --seed 10 --arch ") + arch);
    const auto m = Model::load(path);
    const int64_t E = m->hparams().n_embd;
    const auto tokens = sample_tokens(9, static_cast<int32_t>(m->hparams().n_vocab), 5);
    test::RefArgs ra;
    ra.hidden_layers = {0, 1, 2};
    const auto ref = reference(path, tokens, ra);
    for (const KernelTable* kt : test::tables_to_test()) {
      test::PawArgs pa;
      pa.hidden_layers = {0, 1, 2};
      pa.n_batch = 4;  // taps across chunks
      pa.kt = kt;
      const auto got = run_paw(*m, tokens, kNoAdapters, pa);
      for (int l : {0, 1, 2})
        for (size_t t = 0; t < tokens.size(); ++t)
          test::expect_rows_near(got.hidden.at(l).data() + t * E, ref.hidden.at(l)[t], 1e-4,
                                 std::string(arch) + " [" + kt->name + "] layer " + std::to_string(l) +
                                     " position " + std::to_string(t));
    }
  }
}

TEST(Forward, ModelMetadataAndSizeAccounting) {
  const std::string path = fixture("model --arch qwen3 --preset tiny --type q8_0 --untied --seed 11");
  const auto m = Model::load(path);
  const HParams& hp = m->hparams();
  EXPECT_EQ(hp.arch, Arch::Qwen3);
  EXPECT_EQ(hp.n_layer, 3);
  EXPECT_EQ(hp.n_embd, 256);
  EXPECT_EQ(hp.n_head, 4);
  EXPECT_EQ(hp.n_head_kv, 2);
  EXPECT_EQ(hp.head_dim_k, 64);
  EXPECT_EQ(hp.n_ff, 512);
  EXPECT_DOUBLE_EQ(hp.rope_theta, 1e6);
  EXPECT_NEAR(hp.norm_eps, 1e-6, 1e-12);
  EXPECT_FALSE(m->tied_head());
  // 7 linears per layer + the output head.
  EXPECT_EQ(m->linears().size(), 3u * 7 + 1);
  EXPECT_GE(m->find_linear("blk.2.ffn_down.weight"), 0);
  EXPECT_EQ(m->find_linear("blk.0.attn_norm.weight"), -1);
  // Size accounting equals the sum of the file's tensor sizes (every tensor is bound).
  const GGUFFile* g = m->gguf();
  ASSERT_NE(g, nullptr);
  uint64_t total = 0;
  int64_t params = 0;
  for (const auto& t : g->tensors()) {
    total += t.n_bytes;
    params += t.n_elements();
  }
  EXPECT_EQ(m->weight_bytes(), total);
  EXPECT_EQ(m->n_params(), params);
}

}  // namespace
}  // namespace paw
