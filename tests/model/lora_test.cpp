// Unmerged LoRA in the forward (y = W·x + Σ scale·B(A·x), before biases) against the numpy
// reference applying the same adapters unmerged, and against merged weights — with the
// matrices as the file stores them, and as a session attaches them (LoraPair kernel views:
// Q4_0 interleaved into Q4_0_X16).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "model/forward_harness.hpp"
#include "common/model_test_util.hpp"
#include "paw/adapter/lora.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

using test::fixture;
using test::reference;
using test::run_paw;
using test::sample_tokens;

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, double(std::abs(a[i] - b[i])));
  return d;
}

// least_precise: the least precise weight type among the model's and the adapters' (it sets
// the tolerance for kernel tables that round activations).
void check_lora(const std::string& model_args, const std::vector<std::pair<std::string, float>>& adapters,
                DType least_precise) {
  SCOPED_TRACE(model_args);
  const std::string path = fixture(model_args);
  const auto m = Model::load(path);
  const auto tokens = sample_tokens(10, static_cast<int32_t>(m->hparams().n_vocab), 21);
  AdapterBinding file_views(m->linears().size()), attached(m->linears().size());
  std::vector<test::ManualAdapter> open;
  std::vector<std::shared_ptr<const LoraAdapter>> loaded;
  test::RefArgs ra;
  bool any_interleaved = false;
  for (const auto& [args, scale] : adapters) {
    const std::string ap = fixture(args + " --model " + path);
    open.push_back(test::open_adapter(ap));
    open.back().bind(*m, file_views, scale);
    ra.loras.emplace_back(ap, scale);
    loaded.push_back(LoraAdapter::load(ap));
    for (const auto& [name, pair] : loaded.back()->pairs()) {
      EXPECT_EQ(pair.a_kernel.type, pair.a.type == DType::Q4_0 ? DType::Q4_0_X16 : pair.a.type) << name;
      EXPECT_EQ(pair.b_kernel.type, pair.b.type == DType::Q4_0 ? DType::Q4_0_X16 : pair.b.type) << name;
      any_interleaved |= pair.a_kernel.type == DType::Q4_0_X16;
      attached.add(*m, m->find_linear(name),
                   LoraTerm{pair.a_kernel, pair.b_kernel, scale * loaded.back()->pair_factor(pair)});
    }
    if (const LoraEmbeddingPair* e = loaded.back()->embedding_pair())
      attached.add_embedding(*m, EmbeddingLoraTerm{e->a, e->b, scale * loaded.back()->embedding_factor()});
  }
  if (least_precise == DType::Q4_0) {
    EXPECT_TRUE(any_interleaved) << "no Q4_0 pair was interleaved";
  }
  const auto ref = reference(path, tokens, ra);
  ra.merge = true;
  const auto ref_merged = reference(path, tokens, ra);
  for (const KernelTable* kt : test::tables_to_test())
    for (const AdapterBinding* binding : {&file_views, &attached}) {
      const std::string tag = std::string(" [") + kt->name + (binding == &attached ? ", as attached]" : "]");
      test::PawArgs pa;
      pa.kt = kt;
      const auto with = run_paw(*m, tokens, *binding, pa);
      const auto without = run_paw(*m, tokens, AdapterBinding{}, pa);
      const auto tol = test::logit_tolerance(least_precise, *kt);
      test::expect_logits_near(with.logits.data(), ref.logits, tol, "unmerged vs reference unmerged" + tag);
      test::expect_logits_near(with.logits.data(), ref_merged.logits, tol, "unmerged vs reference merged" + tag);
      // The adapters must matter: far more than the tolerance.
      EXPECT_GT(max_abs_diff(with.logits, without.logits), 0.5) << "adapter had no visible effect" << tag;
      // Token by token (decode): with two threads the linears run as grouped jobs
      // (ForwardRun::linears), with one thread one product at a time. Same bits, near the reference.
      pa.n_batch = 1;
      const auto grouped = run_paw(*m, tokens, *binding, pa);
      pa.n_threads = 1;
      const auto one_by_one = run_paw(*m, tokens, *binding, pa);
      test::expect_logits_near(grouped.logits.data(), ref.logits, tol, "decode vs reference unmerged" + tag);
      EXPECT_EQ(0, std::memcmp(grouped.logits.data(), one_by_one.logits.data(), grouped.logits.size() * sizeof(float)))
          << "grouped decode differs from one product at a time" << tag;
    }
}

TEST(Lora, Qwen3AllModulesF32) {
  check_lora("model --arch qwen3 --preset tiny --type f32 --seed 1",
             {{"lora --rank 8 --alpha 16 --type f32 --std 0.1 --seed 2", 1.0f}}, DType::F32);
}

TEST(Lora, Qwen3Q4_0AdapterOnQuantizedModel) {
  check_lora("model --arch qwen3 --preset tiny --type q8_0 --seed 1",
             {{"lora --rank 32 --alpha 16 --type q4_0 --std 0.1 --seed 3", 1.0f}}, DType::Q4_0);
}

TEST(Lora, LlamaQ4_0Adapter) {
  check_lora("model --arch llama --preset tiny --type q8_0 --std 0.15 --seed 15",
             {{"lora --rank 32 --alpha 16 --type q4_0 --std 0.1 --seed 16", 1.0f}}, DType::Q4_0);
}

TEST(Lora, TwoAdaptersWithScales) {
  check_lora("model --arch qwen3 --preset tiny-hd --type f32 --seed 4",
             {{"lora --rank 8 --alpha 8 --type f32 --std 0.1 --targets q,v --seed 5", 0.5f},
              {"lora --rank 4 --alpha 0 --type f16 --std 0.05 --targets o,gate,down --seed 6", 2.0f}},
             DType::F16);
}

TEST(Lora, Gpt2FusedQkvBeforeBias) {
  check_lora("model --arch gpt2 --preset tiny --type f32 --seed 7",
             {{"lora --rank 8 --alpha 16 --type f32 --std 0.1 --seed 8", 1.0f}}, DType::F32);
}

TEST(Lora, EmbeddingAndUntiedOutput) {
  check_lora("model --arch qwen3 --preset tiny --type f32 --untied --seed 9",
             {{"lora --rank 8 --alpha 8 --type f32 --std 0.1 --targets q,embd,output --seed 10", 1.0f}}, DType::F32);
}

TEST(Lora, ShapeMismatchIsAnErrorNamingTheLinear) {
  // An adapter made for tiny-hd (q rows 512) cannot bind to tiny (q rows 256).
  const std::string hd = fixture("model --arch qwen3 --preset tiny-hd --type f32 --seed 1");
  const std::string tiny = fixture("model --arch qwen3 --preset tiny --type f32 --seed 1");
  const auto ad = test::open_adapter(fixture("lora --rank 8 --type f32 --targets q --seed 1 --model " + hd));
  const auto m = Model::load(tiny);
  AdapterBinding b(m->linears().size());
  try {
    ad.bind(*m, b, 1.0f);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what_failed()).find("blk.0.attn_q.weight"), std::string::npos) << e.what_failed();
  }
}

}  // namespace
}  // namespace paw
