// Input rows instead of token ids (ForwardRequest::embeddings: learned prefix vectors):
// random rows followed by tokens against the numpy reference given the same rows, and rows
// equal to the tokens' own embeddings giving exactly the tokens' logits.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>
#include <string>

#include "common/model_test_util.hpp"
#include "paw/model/forward.hpp"
#include "paw/tensor/quantize.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

using test::fixture;

void check_prefix_rows(const std::string& model_args, DType least_precise) {
  SCOPED_TRACE(model_args);
  const std::string path = fixture(model_args);
  const auto m = Model::load(path);
  const HParams& hp = m->hparams();
  const int64_t K = 3;
  std::vector<float> rows(static_cast<size_t>(K * hp.n_embd));
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 0.5f);
  for (float& v : rows) v = nd(rng);
  const std::string rows_file = test::scratch_dir("forward-embeddings") + "/rows.f32";
  std::ofstream(rows_file, std::ios::binary).write(reinterpret_cast<const char*>(rows.data()),
                                                   static_cast<std::streamsize>(rows.size() * sizeof(float)));
  const auto tokens = test::sample_tokens(5, static_cast<int32_t>(hp.n_vocab), 11);
  test::RefArgs ra;
  ra.prefix_rows = rows_file;
  const auto ref = test::reference(path, tokens, ra);
  ASSERT_EQ(ref.logits.size(), static_cast<size_t>(K) + tokens.size());
  for (const KernelTable* kt : test::tables_to_test()) {
    KVCache kv(hp, 32, DType::F32);
    ForwardScratch s(*m, 16, 32, 2, kt);
    const AdapterBinding none;
    std::vector<float> prefix_logits(static_cast<size_t>(K * hp.n_vocab)), logits(tokens.size() * hp.n_vocab);
    ForwardRequest a;
    a.embeddings = rows;
    a.logits = prefix_logits.data();
    a.logits_all = true;
    forward(*m, none, kv, s, a);
    ForwardRequest b;
    b.tokens = tokens;
    b.pos0 = K;
    b.logits = logits.data();
    b.logits_all = true;
    forward(*m, none, kv, s, b);
    const auto tol = test::logit_tolerance(least_precise, *kt);
    test::expect_logits_near(prefix_logits.data(), {ref.logits.begin(), ref.logits.begin() + K}, tol,
                             std::string("prefix rows [") + kt->name + "]");
    test::expect_logits_near(logits.data(), {ref.logits.begin() + K, ref.logits.end()}, tol,
                             std::string("tokens after the rows [") + kt->name + "]");
  }
}

TEST(ForwardEmbeddings, Qwen3RowsBeforeTokensMatchTheReference) {
  check_prefix_rows("model --arch qwen3 --preset tiny --type f32 --seed 5", DType::F32);
}

TEST(ForwardEmbeddings, Gpt2RowsGetPositionRowsToo) {
  check_prefix_rows("model --arch gpt2 --preset tiny --type f32 --seed 6", DType::F32);
}

TEST(ForwardEmbeddings, TheTokensOwnRowsGiveTheTokensLogits) {
  const std::string path = fixture("model --arch qwen3 --preset tiny --type q8_0 --seed 5");
  const auto m = Model::load(path);
  const HParams& hp = m->hparams();
  const auto tokens = test::sample_tokens(4, static_cast<int32_t>(hp.n_vocab), 3);
  // The token embedding rows, read from the file's own bytes.
  const MatrixView& e = m->weights().token_embd.view;
  std::vector<float> rows(tokens.size() * hp.n_embd);
  for (size_t t = 0; t < tokens.size(); ++t)
    dequantize_row(e.type, e.data + static_cast<size_t>(tokens[t]) * *row_bytes(e.type, e.cols), rows.data() + t * hp.n_embd,
                   hp.n_embd);
  const AdapterBinding none;
  std::vector<float> by_tokens(hp.n_vocab), by_rows(hp.n_vocab);
  for (int pass = 0; pass < 2; ++pass) {
    KVCache kv(hp, 16, DType::F16);
    ForwardScratch s(*m, 8, 16, 2);
    ForwardRequest r;
    if (pass == 0) r.tokens = tokens;
    else r.embeddings = rows;
    r.logits = pass == 0 ? by_tokens.data() : by_rows.data();
    forward(*m, none, kv, s, r);
  }
  EXPECT_EQ(0, std::memcmp(by_tokens.data(), by_rows.data(), by_rows.size() * sizeof(float)));
}

TEST(ForwardEmbeddings, BadRowsAreErrors) {
  const auto m = Model::load(fixture("model --arch qwen3 --preset tiny --type f32 --seed 5"));
  const HParams& hp = m->hparams();
  KVCache kv(hp, 16, DType::F32);
  ForwardScratch s(*m, 8, 16, 1);
  const AdapterBinding none;
  std::vector<float> rows(static_cast<size_t>(hp.n_embd) + 1), logits(hp.n_vocab);
  const std::vector<int32_t> tok = {1};
  ForwardRequest r;
  r.embeddings = rows;
  r.logits = logits.data();
  EXPECT_THROW(forward(*m, none, kv, s, r), Error);   // not whole rows
  r.embeddings = std::span<const float>(rows).first(static_cast<size_t>(hp.n_embd));
  r.tokens = tok;
  EXPECT_THROW(forward(*m, none, kv, s, r), Error);   // both
  r.tokens = {};
  EXPECT_NO_THROW(forward(*m, none, kv, s, r));
}

}  // namespace
}  // namespace paw
