// Session: prefill/decode, logits, greedy continuation, hidden states, truncate, KV prefix
// copy, adapters — against the independent numpy reference (tests/reference/ref_forward.py).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "common/model_test_util.hpp"
#include "paw/runtime/session.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

using test::fixture;
using test::reference;
using test::sample_tokens;

int32_t argmax(std::span<const float> v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

SessionOptions f32_kv(int64_t n_batch = 64, const KernelTable* kt = nullptr) {
  SessionOptions o;
  o.kv_type = DType::F32;
  o.n_ctx = 64;
  o.n_batch = n_batch;
  o.n_threads = 2;
  o.kernels = kt;
  return o;
}

std::string tag(const KernelTable* kt) { return std::string(" [") + kt->name + "]"; }

TEST(Session, PrefillAllLogitsMatchReference) {
  const std::string path = fixture("model --arch qwen3 --preset tiny --type q6_K --seed 31");
  const auto model = Model::load(path);
  const auto tokens = sample_tokens(12, static_cast<int32_t>(model->hparams().n_vocab), 1);
  const auto ref = reference(path, tokens);
  for (const KernelTable* kt : test::tables_to_test()) {
    Session s(model, f32_kv(5, kt));  // 12 tokens in chunks of 5
    EvalOptions eo;
    eo.all_logits = true;
    s.prefill(tokens, eo);
    EXPECT_EQ(s.n_past(), 12);
    ASSERT_EQ(s.all_logits().size(), 12 * static_cast<size_t>(s.n_vocab()));
    test::expect_logits_near(s.all_logits().data(), ref.logits, test::logit_tolerance(DType::Q6_K, *kt),
                             "session prefill" + tag(kt));
    // logits() is the last position's row
    ASSERT_EQ(s.logits().size(), static_cast<size_t>(s.n_vocab()));
    EXPECT_TRUE(std::equal(s.logits().begin(), s.logits().end(), s.all_logits().end() - s.n_vocab()));
  }
}

TEST(Session, DecodeStepsEqualBatchPrefill) {
  const std::string path = fixture("model --arch gpt2 --preset tiny --type f16 --seed 32");
  const auto model = Model::load(path);
  for (const KernelTable* kt : test::tables_to_test()) {
    Session batch(model, f32_kv(64, kt)), steps(model, f32_kv(64, kt));
    const auto tokens = sample_tokens(9, static_cast<int32_t>(batch.n_vocab()), 2);
    EvalOptions eo;
    eo.all_logits = true;
    batch.prefill(tokens, eo);
    float scale = 1.0f;
    for (float v : batch.all_logits()) scale = std::max(scale, std::abs(v));
    const double tol = test::logit_tolerance(DType::F16, *kt).max_rel * scale;
    for (size_t i = 0; i < tokens.size(); ++i) {
      steps.decode(tokens[i]);
      const float* want = batch.all_logits().data() + i * batch.n_vocab();
      for (int64_t v = 0; v < steps.n_vocab(); ++v)
        ASSERT_NEAR(steps.logits()[v], want[v], tol) << "position " << i << tag(kt);
    }
    EXPECT_EQ(steps.n_past(), batch.n_past());
  }
}

// Greedy continuation must equal the reference's token for token: the check runs on a
// kernel table whose numbers match the reference to ~1e-5 for these weights (the scalar
// table for any type; any table for F32 weights), so only a real bug can flip an argmax.
void check_greedy(const std::string& model_path, const std::string& adapter_path, float scale,
                  const KernelTable* kt) {
  SessionOptions o;  // defaults: F16 cache
  o.n_ctx = 64;
  o.kernels = kt;
  Session s(Model::load(model_path), o);
  if (!adapter_path.empty()) s.attach(LoraAdapter::load_gguf(adapter_path), scale);
  const auto prompt = sample_tokens(6, static_cast<int32_t>(s.n_vocab()), 3);
  s.prefill(prompt);
  std::vector<int32_t> gen;
  for (int i = 0; i < 8; ++i) {
    gen.push_back(argmax(s.logits()));
    s.decode(gen.back());
  }
  test::RefArgs ra;
  ra.kv_f16 = true;
  ra.greedy = 8;
  if (!adapter_path.empty()) ra.loras.emplace_back(adapter_path, scale);
  const auto ref = reference(model_path, prompt, ra);
  EXPECT_EQ(gen, ref.greedy) << model_path << tag(kt ? kt : &kernels());
  // A degenerate continuation (the same token again and again) would prove little.
  std::sort(gen.begin(), gen.end());
  EXPECT_GE(std::unique(gen.begin(), gen.end()) - gen.begin(), 3) << "continuation is degenerate";
}

TEST(Session, GreedyContinuationMatchesReference) {
  const KernelTable* scalar = &scalar_kernels();
  check_greedy(fixture("model --arch qwen3 --preset tiny --type q8_0 --seed 33"), "", 1.0f, scalar);
  check_greedy(fixture("model --arch gpt2 --preset tiny --type f16 --seed 34"), "", 1.0f, scalar);
  // The active table on F32 weights (no activation rounding anywhere).
  check_greedy(fixture("model --arch qwen3 --preset tiny-hd --type f32 --seed 33"), "", 1.0f, nullptr);
  check_greedy(fixture("model --arch gpt2 --preset tiny --type f32 --seed 34"), "", 1.0f, nullptr);
}

TEST(Session, GreedyWithLoraMatchesReference) {
  const KernelTable* scalar = &scalar_kernels();
  const std::string m = fixture("model --arch qwen3 --preset tiny-hd --type q4_K --seed 35");
  check_greedy(m, fixture("lora --rank 32 --alpha 16 --type q4_0 --std 0.1 --seed 36 --model " + m), 1.0f, scalar);
  const std::string g = fixture("model --arch gpt2 --preset tiny --type q8_0 --seed 37");
  check_greedy(g, fixture("lora --rank 8 --alpha 16 --type f32 --std 0.1 --seed 38 --model " + g), 0.7f, scalar);
  const std::string f = fixture("model --arch qwen3 --preset tiny --type f32 --seed 39");
  check_greedy(f, fixture("lora --rank 8 --alpha 16 --type f32 --std 0.1 --seed 40 --model " + f), 1.0f, nullptr);
}

TEST(Session, UnmergedAdaptersEqualMergedWeights) {
  const std::string m = fixture("model --arch qwen3 --preset tiny --type f32 --seed 39");
  const std::string a1 = fixture("lora --rank 8 --alpha 16 --type f32 --std 0.1 --seed 40 --model " + m);
  const std::string a2 = fixture("lora --rank 32 --alpha 32 --type q4_0 --std 0.1 --targets o,up,down --seed 41 --model " + m);
  const auto model = Model::load(m);
  const auto ad1 = LoraAdapter::load_gguf(a1), ad2 = LoraAdapter::load_gguf(a2);
  const auto tokens = sample_tokens(8, static_cast<int32_t>(model->hparams().n_vocab), 4);
  test::RefArgs ra;
  ra.loras = {{a1, 1.0f}, {a2, 0.5f}};
  ra.merge = true;
  const auto ref = reference(m, tokens, ra);
  for (const KernelTable* kt : test::tables_to_test()) {
    Session s(model, f32_kv(64, kt));
    s.attach(ad1, 1.0f);
    s.attach(ad2, 0.5f);
    EXPECT_EQ(s.adapters().size(), 2u);
    EvalOptions eo;
    eo.all_logits = true;
    s.prefill(tokens, eo);
    test::expect_logits_near(s.all_logits().data(), ref.logits, test::logit_tolerance(DType::Q4_0, *kt),
                             "merged reference" + tag(kt));
  }
}

TEST(Session, AttachDetachIsCheapAndExact) {
  const std::string m = fixture("model --arch qwen3 --preset tiny --type f32 --seed 42");
  const std::string a = fixture("lora --rank 8 --alpha 8 --type f32 --std 0.1 --seed 43 --model " + m);
  const auto model = Model::load(m);
  const auto adapter = LoraAdapter::load_gguf(a);
  const auto tokens = sample_tokens(7, static_cast<int32_t>(model->hparams().n_vocab), 5);
  test::RefArgs ra;
  ra.loras = {{a, 1.0f}};
  const auto ref = reference(m, tokens, ra);
  for (const KernelTable* kt : test::tables_to_test()) {
    Session s(model, f32_kv(64, kt));
    EvalOptions eo;
    eo.all_logits = true;
    s.prefill(tokens, eo);
    const std::vector<float> base(s.all_logits().begin(), s.all_logits().end());
    s.reset();
    s.attach(adapter);
    s.prefill(tokens, eo);
    test::expect_logits_near(s.all_logits().data(), ref.logits, test::logit_tolerance(DType::F32, *kt),
                             "attached" + tag(kt));
    s.detach(adapter.get());
    EXPECT_TRUE(s.adapters().empty());
    s.reset();
    s.prefill(tokens, eo);
    for (size_t i = 0; i < base.size(); ++i)
      ASSERT_EQ(s.all_logits()[i], base[i]) << "detach must restore the base model" << tag(kt);
  }
}

TEST(Session, AdapterForAnotherModelIsRefusedAndStateKept) {
  const std::string tiny = fixture("model --arch qwen3 --preset tiny --type f32 --seed 44");
  const std::string hd = fixture("model --arch qwen3 --preset tiny-hd --type f32 --seed 44");
  const std::string gpt = fixture("model --arch gpt2 --preset tiny --type f32 --seed 44");
  Session s(Model::load(tiny), f32_kv());
  const auto good = LoraAdapter::load_gguf(fixture("lora --rank 8 --type f32 --seed 1 --model " + tiny));
  s.attach(good);
  try {
    s.attach(LoraAdapter::load_gguf(fixture("lora --rank 8 --type f32 --targets q --seed 1 --model " + hd)));
    FAIL() << "shape mismatch accepted";
  } catch (const Error& e) {
    EXPECT_NE(e.what_failed().find("blk.0.attn_q.weight"), std::string::npos) << e.what_failed();
  }
  EXPECT_THROW(s.attach(LoraAdapter::load_gguf(fixture("lora --rank 8 --type f32 --seed 1 --model " + gpt))), Error);
  ASSERT_EQ(s.adapters().size(), 1u);  // unchanged by the failed attaches
  EXPECT_EQ(s.adapters()[0].adapter, good);
}

TEST(Session, HiddenStatesOfChosenLayersAtLastPositions) {
  const std::string path = fixture("model --arch qwen3 --preset tiny --type f32 --seed 45");
  const auto model = Model::load(path);
  const auto prefix = sample_tokens(3, static_cast<int32_t>(model->hparams().n_vocab), 6);
  const auto rest = sample_tokens(7, static_cast<int32_t>(model->hparams().n_vocab), 7);
  std::vector<int32_t> all = prefix;
  all.insert(all.end(), rest.begin(), rest.end());
  test::RefArgs ra;
  ra.hidden_layers = {0, 1, 2};
  const auto ref = reference(path, all, ra);
  for (const KernelTable* kt : test::tables_to_test()) {
    Session s(model, f32_kv(4, kt));
    s.prefill(prefix);
    EvalOptions eo;
    eo.hidden_layers = {0, 1, -1};
    eo.hidden_last = 5;  // spans two chunks of 4
    s.prefill(rest, eo);
    const HiddenStates& h = s.hidden_states();
    ASSERT_EQ(h.layers, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(h.n_pos, 5);
    EXPECT_EQ(h.first_pos, 5);  // positions 5..9 of 10
    for (size_t li = 0; li < 3; ++li)
      for (int64_t r = 0; r < 5; ++r)
        test::expect_rows_near(h.at(li, r).data(), ref.hidden.at(h.layers[li])[static_cast<size_t>(h.first_pos + r)],
                               1e-4, "layer " + std::to_string(h.layers[li]) + " row " + std::to_string(r) + tag(kt));
    // Out-of-range layers are refused before evaluation.
    EvalOptions bad;
    bad.hidden_layers = {3};
    EXPECT_THROW(s.prefill(rest, bad), Error);
    EXPECT_EQ(s.n_past(), 10);
  }
}

TEST(Session, TruncateThenContinue) {
  const std::string path = fixture("model --arch qwen3 --preset tiny --type q8_0 --seed 46");
  const auto model = Model::load(path);
  const auto a = sample_tokens(10, static_cast<int32_t>(model->hparams().n_vocab), 8);
  const auto b = sample_tokens(4, static_cast<int32_t>(model->hparams().n_vocab), 9);
  std::vector<int32_t> seq(a.begin(), a.begin() + 6);
  seq.insert(seq.end(), b.begin(), b.end());
  const auto ref = reference(path, seq);
  const std::vector<std::vector<double>> tail(ref.logits.begin() + 6, ref.logits.end());
  for (const KernelTable* kt : test::tables_to_test()) {
    Session s(model, f32_kv(64, kt));
    s.prefill(a);
    s.truncate(6);
    EXPECT_EQ(s.n_past(), 6);
    EXPECT_TRUE(s.logits().empty());
    EvalOptions eo;
    eo.all_logits = true;
    s.prefill(b, eo);
    EXPECT_EQ(s.tokens(), seq);
    test::expect_logits_near(s.all_logits().data(), tail, test::logit_tolerance(DType::Q8_0, *kt),
                             "after truncate" + tag(kt));
    EXPECT_THROW(s.truncate(11), Error);
  }
}

TEST(Session, KvPrefixCopyOutAndIn) {
  const std::string path = fixture("model --arch gpt2 --preset tiny --type f32 --seed 47");
  const auto model = Model::load(path);
  SessionOptions o;
  o.n_ctx = 32;  // default F16 cache
  Session a(model, o), b(model, o);
  const auto prefix = sample_tokens(6, static_cast<int32_t>(a.n_vocab()), 10);
  const auto suffix = sample_tokens(3, static_cast<int32_t>(a.n_vocab()), 11);
  a.prefill(prefix);
  std::vector<uint8_t> saved(a.kv_bytes(6));
  a.kv_copy_out(6, saved);
  EXPECT_EQ(saved.size(), 6u * 3 * 2 * 256 * 2);  // positions * layers * (K, V) * n_embd * f16
  b.kv_copy_in(prefix, saved);
  EXPECT_EQ(b.n_past(), 6);
  a.prefill(suffix);
  b.prefill(suffix);
  for (int64_t v = 0; v < a.n_vocab(); ++v) ASSERT_EQ(a.logits()[v], b.logits()[v]);
  std::vector<uint8_t> wrong(saved.size() - 1);
  EXPECT_THROW(b.kv_copy_in(prefix, wrong), Error);
}

TEST(Session, ContextOverflowIsRefusedBeforeEvaluation) {
  const std::string path = fixture("model --arch qwen3 --preset tiny --type f32 --seed 48");
  SessionOptions o;
  o.n_ctx = 8;
  Session s(Model::load(path), o);
  s.prefill(sample_tokens(5, static_cast<int32_t>(s.n_vocab()), 12));
  EXPECT_THROW(s.prefill(sample_tokens(4, static_cast<int32_t>(s.n_vocab()), 13)), Error);
  EXPECT_EQ(s.n_past(), 5);
  const int32_t bad[] = {1, -3};
  EXPECT_THROW(s.prefill(bad), Error);
  EXPECT_EQ(s.n_past(), 5);
  EXPECT_FALSE(s.logits().empty());
}

TEST(Session, Gpt2ContextIsCappedByPositionTable) {
  const auto model = Model::load(fixture("model --arch gpt2 --preset tiny --type f32 --seed 49"));
  Session s(model);  // default n_ctx = min(context_length, 2048)
  EXPECT_EQ(s.n_ctx(), model->hparams().n_ctx_train);
  SessionOptions o;
  o.n_ctx = model->hparams().n_ctx_train + 1;
  EXPECT_THROW(Session(model, o), Error);
}

}  // namespace
}  // namespace paw
