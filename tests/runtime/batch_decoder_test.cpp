// BatchDecoder: sessions of different programs (adapters) and lengths, decoded together, give
// the greedy continuations and logits of each session decoded alone, and the continuation of
// the independent numpy reference (tests/reference/ref_forward.py --greedy).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "common/model_test_util.hpp"
#include "paw/adapter/lora.hpp"
#include "paw/runtime/batch_decoder.hpp"
#include "paw/runtime/generate.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

using test::fixture;

SessionOptions options(const KernelTable* kt) {
  SessionOptions o;
  o.n_ctx = 64;
  o.n_threads = 2;
  o.kernels = kt;
  return o;
}

TEST(BatchDecoder, SessionsDecodedTogetherEqualEachDecodedAlone) {
  const std::string path = fixture("model --arch qwen3 --preset tiny --type q8_0 --seed 1");
  const auto model = Model::load(path);
  const auto n_vocab = static_cast<int32_t>(model->hparams().n_vocab);
  const std::vector<std::string> adapters = {fixture("lora --rank 32 --alpha 16 --type q4_0 --std 0.1 --seed 3 --model " + path),
                                             "", fixture("lora --rank 8 --alpha 8 --type f32 --std 0.1 --seed 5 --model " + path)};
  const int64_t n_new = 6;
  for (const KernelTable* kt : test::tables_to_test()) {
    SCOPED_TRACE(kt->name);
    std::vector<std::unique_ptr<Session>> batched, alone;
    std::vector<std::vector<int32_t>> prompts;
    for (size_t i = 0; i < adapters.size(); ++i) {
      prompts.push_back(test::sample_tokens(4 + 5 * i, n_vocab, 60 + static_cast<uint32_t>(i)));
      for (auto* list : {&batched, &alone}) {
        list->push_back(std::make_unique<Session>(model, options(kt)));
        if (!adapters[i].empty()) list->back()->attach(LoraAdapter::load(adapters[i]));
        list->back()->prefill(prompts.back());
      }
    }
    // Alone: generate() per session; the reference: the same greedy continuation.
    GenerateOptions go;
    go.max_tokens = n_new;
    std::vector<std::vector<int32_t>> want;
    for (size_t i = 0; i < alone.size(); ++i) {
      want.push_back(generate(*alone[i], {}, go).ids);
      test::RefArgs ra;
      ra.greedy = static_cast<int>(n_new);
      ra.kv_f16 = true;
      if (!adapters[i].empty()) ra.loras.emplace_back(adapters[i], 1.0f);
      EXPECT_EQ(test::reference(path, prompts[i], ra).greedy, want.back()) << "session " << i << " alone vs reference";
    }
    // Together: one Generation per session, every next token through one BatchDecoder step.
    BatchDecoderOptions bo;
    bo.max_sequences = 4;
    bo.n_ctx = 64;
    bo.n_threads = 2;
    bo.kernels = kt;
    BatchDecoder dec(model, bo);
    std::vector<std::unique_ptr<Generation>> gens;
    std::vector<int32_t> next(batched.size());
    for (size_t i = 0; i < batched.size(); ++i) {
      gens.push_back(std::make_unique<Generation>(go));
      next[i] = *gens[i]->step(batched[i]->logits(), batched[i]->n_past(), batched[i]->n_ctx());
    }
    for (int64_t step = 1; step < n_new; ++step) {
      std::vector<Session*> rows;
      for (auto& s : batched) rows.push_back(s.get());
      dec.decode(rows, next);
      for (size_t i = 0; i < batched.size(); ++i) {
        const auto t = gens[i]->step(batched[i]->logits(), batched[i]->n_past(), batched[i]->n_ctx());
        ASSERT_EQ(t.has_value(), step + 1 < n_new);
        if (t) next[i] = *t;
      }
    }
    for (size_t i = 0; i < batched.size(); ++i) {
      EXPECT_EQ(gens[i]->result().ids, want[i]) << "session " << i;
      EXPECT_EQ(batched[i]->tokens(), alone[i]->tokens()) << "session " << i;
      // The last logits: equal up to the order of float sums.
      const auto a = batched[i]->logits(), b = alone[i]->logits();
      ASSERT_EQ(a.size(), b.size());
      double scale = 1, worst = 0;
      for (size_t k = 0; k < a.size(); ++k) {
        scale = std::max(scale, double(std::abs(b[k])));
        worst = std::max(worst, double(std::abs(a[k] - b[k])));
      }
      EXPECT_LE(worst, 1e-4 * scale) << "session " << i;
    }
  }
}

TEST(BatchDecoder, OneSessionIsExactlyDecode) {
  const std::string path = fixture("model --arch qwen3 --preset tiny --type q8_0 --seed 1");
  const auto model = Model::load(path);
  const auto prompt = test::sample_tokens(5, static_cast<int32_t>(model->hparams().n_vocab), 9);
  Session a(model, options(nullptr)), b(model, options(nullptr));
  a.attach(LoraAdapter::load(fixture("lora --rank 32 --alpha 16 --type q4_0 --std 0.1 --seed 3 --model " + path)));
  b.set_adapters(a.adapters());
  a.prefill(prompt);
  b.prefill(prompt);
  BatchDecoder dec(model, {.max_sequences = 2, .n_ctx = 64, .n_threads = 2});
  for (int32_t t : {7, 8, 9}) {
    a.decode(t);
    Session* one[1] = {&b};
    const int32_t tok[1] = {t};
    dec.decode(one, tok);
    ASSERT_EQ(0, std::memcmp(a.logits().data(), b.logits().data(), a.logits().size() * sizeof(float)));
  }
}

TEST(BatchDecoder, BadBatchesAreErrorsThatChangeNoSession) {
  const std::string path = fixture("model --arch qwen3 --preset tiny --type f32 --seed 1");
  const auto model = Model::load(path);
  const auto other = Model::load(fixture("model --arch qwen3 --preset tiny --type f32 --seed 2"));
  SessionOptions o = options(nullptr);
  o.n_ctx = 4;
  Session a(model, o), b(model, o), full(model, o), foreign(other, o);
  a.prefill(std::vector<int32_t>{1, 2});
  b.prefill(std::vector<int32_t>{3});
  full.prefill(std::vector<int32_t>{1, 2, 3, 4});
  foreign.prefill(std::vector<int32_t>{1});
  BatchDecoder dec(model, {.max_sequences = 2, .max_tokens = 4, .n_ctx = 4, .n_threads = 1});
  const auto expect_error = [&](std::vector<Session*> ss, std::vector<int32_t> toks, const std::string& needle) {
    try {
      dec.decode(ss, toks);
      ADD_FAILURE() << "expected an error containing '" << needle << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error({&a, &b}, {1}, "2 sessions but 1 chunks");
  expect_error({&a, &b, &a}, {1, 1, 1}, "exceed max_sequences 2");
  expect_error({&a, &a}, {1, 1}, "shares its KV cache");
  expect_error({&a, &full}, {1, 1}, "context overflow");
  expect_error({&a, &foreign}, {1, 1}, "runs another model");
  expect_error({&a, &b}, {1, -1}, "outside the vocabulary");
  EXPECT_EQ(a.n_past(), 2);
  EXPECT_EQ(b.n_past(), 1);
  std::vector<Session*> ok = {&a, &b};
  dec.decode(ok, std::vector<int32_t>{5, 6});
  EXPECT_EQ(a.tokens(), (std::vector<int32_t>{1, 2, 5}));
  EXPECT_EQ(b.tokens(), (std::vector<int32_t>{3, 6}));
}

}  // namespace
}  // namespace paw
