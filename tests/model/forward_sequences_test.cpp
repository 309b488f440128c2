// forward_sequences: several sequences, each with its own adapter, KV cache and position,
// decoded together in one forward. Every row is checked against the independent numpy
// reference run on that sequence alone with that sequence's adapter (tests/reference), and
// against paw's own one-sequence forward() of the same row.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "model/forward_harness.hpp"
#include "common/model_test_util.hpp"
#include "paw/adapter/lora.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

using test::fixture;

struct Seq {
  std::vector<int32_t> tokens;
  std::string adapter;                          // "" = base model alone
  std::shared_ptr<const LoraAdapter> loaded;
  std::unique_ptr<AdapterBinding> binding;
  std::unique_ptr<KVCache> kv;
  test::RefOutput ref;
};

AdapterBinding bind(const Model& m, const LoraAdapter& ad) {
  AdapterBinding b(m.linears().size());
  for (const auto& [name, pair] : ad.pairs())
    b.add(m, m.find_linear(name), LoraTerm{pair.a_kernel, pair.b_kernel, ad.pair_factor(pair)});
  if (const LoraEmbeddingPair* e = ad.embedding_pair()) b.add_embedding(m, EmbeddingLoraTerm{e->a, e->b, ad.embedding_factor()});
  return b;
}

// Sequences of different lengths (so different positions per row): sequence i has head_i
// tokens evaluated alone first (0: it joins with its whole prompt), then step 1 evaluates a
// chunk of chunk_i tokens of every sequence at once (prompts joining beside sequences
// decoding one token) and step 2 one token of each. Each chunk's last-token logits must
// match the reference at that position, and paw's own one-sequence forward().
void check_sequences(const std::string& model_args, const std::vector<std::string>& adapter_args, DType least_precise) {
  SCOPED_TRACE(model_args);
  const std::string path = fixture(model_args);
  const auto m = Model::load(path);
  const HParams& hp = m->hparams();
  std::vector<Seq> seqs(adapter_args.size());
  const std::vector<int64_t> heads = {4, 0, 7, 2, 5}, chunks = {1, 5, 1, 3, 2};
  for (size_t i = 0; i < seqs.size(); ++i) {
    Seq& s = seqs[i];
    s.tokens = test::sample_tokens(static_cast<size_t>(heads[i] + chunks[i] + 1), static_cast<int32_t>(hp.n_vocab),
                                   40 + static_cast<uint32_t>(i));
    test::RefArgs ra;
    if (!adapter_args[i].empty()) {
      s.adapter = fixture(adapter_args[i] + " --model " + path);
      s.loaded = LoraAdapter::load(s.adapter);
      s.binding = std::make_unique<AdapterBinding>(bind(*m, *s.loaded));
      ra.loras.emplace_back(s.adapter, 1.0f);
    }
    s.ref = test::reference(path, s.tokens, ra);
  }
  for (const KernelTable* kt : test::tables_to_test()) {
    const std::string tag = std::string(" [") + kt->name + "]";
    const auto n = static_cast<int64_t>(seqs.size());
    ForwardScratch batch(*m, 32, 64, 2, kt);
    for (size_t i = 0; i < seqs.size(); ++i) {
      Seq& s = seqs[i];
      if (s.binding) batch.reserve(*s.binding);
      s.kv = std::make_unique<KVCache>(hp, 64, DType::F32);
      if (heads[i] == 0) continue;
      ForwardScratch one(*m, 64, 64, 2, kt);
      const AdapterBinding none;
      if (s.binding) one.reserve(*s.binding);
      ForwardRequest req;
      req.tokens = std::span<const int32_t>(s.tokens).first(static_cast<size_t>(heads[i]));
      forward(*m, s.binding ? *s.binding : none, *s.kv, one, req);
    }
    std::vector<float> logits(static_cast<size_t>(n * hp.n_vocab));
    for (int step = 0; step < 2; ++step) {
      std::vector<SequenceChunk> rows;
      for (size_t i = 0; i < seqs.size(); ++i) {
        const int64_t pos0 = step == 0 ? heads[i] : heads[i] + chunks[i];
        const int64_t len = step == 0 ? chunks[i] : 1;
        rows.push_back({std::span<const int32_t>(seqs[i].tokens).subspan(static_cast<size_t>(pos0), static_cast<size_t>(len)),
                        pos0, seqs[i].kv.get(), seqs[i].binding.get()});
      }
      forward_sequences(*m, rows, batch, logits.data());
      for (int64_t i = 0; i < n; ++i) {
        const Seq& s = seqs[static_cast<size_t>(i)];
        const SequenceChunk& c = rows[static_cast<size_t>(i)];
        const auto last = static_cast<size_t>(c.pos0) + c.tokens.size() - 1;
        const std::string what = "sequence " + std::to_string(i) + " step " + std::to_string(step) + tag;
        test::expect_logits_near(logits.data() + i * hp.n_vocab, {s.ref.logits[last]},
                                 test::logit_tolerance(least_precise, *kt), what + " vs reference");
        // The same sequence through the one-sequence forward (full recompute).
        const AdapterBinding none;
        test::PawArgs pa;
        pa.kt = kt;
        const auto alone = test::run_paw(*m, std::vector<int32_t>(s.tokens.begin(), s.tokens.begin() + last + 1),
                                         s.binding ? *s.binding : none, pa);
        test::expect_rows_near(logits.data() + i * hp.n_vocab,
                               std::vector<double>(alone.logits.end() - hp.n_vocab, alone.logits.end()),
                               &*kt == &scalar_kernels() ? 1e-5 : 2e-2, what + " vs forward() alone");
      }
    }
  }
}

TEST(ForwardSequences, Qwen3RowsWithTheirOwnAdaptersAndPositions) {
  check_sequences("model --arch qwen3 --preset tiny --type q8_0 --seed 1",
                  {"lora --rank 32 --alpha 16 --type q4_0 --std 0.1 --seed 3", "",
                   "lora --rank 16 --alpha 16 --type f32 --std 0.1 --seed 4",
                   "lora --rank 8 --alpha 8 --type f32 --std 0.1 --targets q,v --seed 5"},
                  DType::Q4_0);
}

TEST(ForwardSequences, Gpt2FusedQkv) {
  check_sequences("model --arch gpt2 --preset tiny --type f32 --seed 7",
                  {"lora --rank 8 --alpha 16 --type f32 --std 0.1 --seed 8", "lora --rank 8 --alpha 16 --type f32 --std 0.1 --seed 9"},
                  DType::F32);
}

TEST(ForwardSequences, EmbeddingAndOutputAdaptersPerRow) {
  check_sequences("model --arch qwen3 --preset tiny --type f32 --untied --seed 9",
                  // the second joins with a 5-token chunk: its embedding terms over a whole chunk
                  {"lora --rank 8 --alpha 8 --type f32 --std 0.1 --targets q,embd,output --seed 10",
                   "lora --rank 4 --alpha 8 --type f32 --std 0.1 --targets embd,down,output --seed 11", ""},
                  DType::F32);
}

TEST(ForwardSequences, OneRowIsExactlyForward) {
  const std::string path = fixture("model --arch qwen3 --preset tiny --type q8_0 --seed 1");
  const auto m = Model::load(path);
  const HParams& hp = m->hparams();
  const auto ad = LoraAdapter::load(fixture("lora --rank 32 --alpha 16 --type q4_0 --std 0.1 --seed 3 --model " + path));
  const AdapterBinding b = bind(*m, *ad);
  const auto tokens = test::sample_tokens(6, static_cast<int32_t>(hp.n_vocab), 3);
  KVCache kv_a(hp, 32, DType::F16), kv_b(hp, 32, DType::F16);
  ForwardScratch sa(*m, 8, 32, 2), sb(*m, 8, 32, 2);
  sa.reserve(b);
  sb.reserve(b);
  std::vector<float> la(static_cast<size_t>(hp.n_vocab)), lb(la.size());
  for (size_t t = 0; t < tokens.size(); ++t) {
    ForwardRequest req;
    req.tokens = std::span<const int32_t>(tokens).subspan(t, 1);
    req.pos0 = static_cast<int64_t>(t);
    req.logits = la.data();
    forward(*m, b, kv_a, sa, req);
    const SequenceChunk row{std::span<const int32_t>(tokens).subspan(t, 1), static_cast<int64_t>(t), &kv_b, &b};
    forward_sequences(*m, std::span<const SequenceChunk>(&row, 1), sb, lb.data());
    ASSERT_EQ(0, std::memcmp(la.data(), lb.data(), la.size() * sizeof(float))) << "position " << t;
  }
}

TEST(ForwardSequences, BadChunksAreErrorsBeforeAnyCacheIsTouched) {
  const std::string path = fixture("model --arch qwen3 --preset tiny --type f32 --seed 1");
  const auto m = Model::load(path);
  const HParams& hp = m->hparams();
  const auto ad = LoraAdapter::load(fixture("lora --rank 8 --type f32 --seed 2 --model " + path));
  const AdapterBinding b = bind(*m, *ad);
  KVCache k1(hp, 16, DType::F32), k2(hp, 16, DType::F32), k3(hp, 16, DType::F32);
  ForwardScratch s(*m, 4, 16, 1);
  std::vector<float> logits(static_cast<size_t>(3 * hp.n_vocab));
  const std::vector<int32_t> one = {1}, two = {1, 2}, three = {1, 2, 3}, bad = {1, static_cast<int32_t>(hp.n_vocab)};
  const auto expect_error = [&](std::vector<SequenceChunk> rows, const std::string& needle) {
    try {
      forward_sequences(*m, rows, s, logits.data());
      ADD_FAILURE() << "expected an error containing '" << needle << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error({}, "no sequences");
  expect_error({{one, 0, &k1}, {{}, 0, &k2}}, "no tokens");
  expect_error({{two, 0, &k1}, {three, 0, &k2}}, "5 tokens exceed the scratch's batch size 4");
  expect_error({{one, 0, &k1}, {one, 3, &k1}}, "shares its KV cache with sequence 0");
  expect_error({{one, 0, &k1}, {two, 15, &k2}}, "positions 15..16 are outside the context");
  expect_error({{one, 0, &k1}, {bad, 0, &k2}}, "token id " + std::to_string(hp.n_vocab) + " at index 1");
  expect_error({{one, 0, &k1}, {one, 0, nullptr}}, "no KV cache");
  expect_error({{one, 0, &k1}, {one, 0, &k2, &b}}, "not reserved");
  s.reserve(b);
  std::vector<SequenceChunk> ok = {{one, 0, &k1, &b}, {two, 0, &k2}, {one, 0, &k3, &b}};
  EXPECT_NO_THROW(forward_sequences(*m, ok, s, logits.data()));
}

}  // namespace
}  // namespace paw
