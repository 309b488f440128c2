// The libtorch models against the native runtime on the same GGUF files: files written by
// paw-fixture (an independent writer) loaded into a TorchModel, and models exported by the
// training layer loaded by the native loader. Also the forward's batching semantics (padding,
// packed segments) against plain one-sequence forwards.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <string>

#include "paw/formats/gguf.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/train/gguf_io.hpp"
#include "paw/util/error.hpp"
#include "train/train_test_util.hpp"

namespace paw {
namespace {

using test::compare;
using test::native_logits;
using test::some_tokens;
using test::torch_logits;
using test::train_fixture;

// F32 weights: both sides compute with the same F32 values; the difference is summation
// order (and the native double-precision norm sums), ~1e-6 of the logit scale.
constexpr double kF32Tol = 1e-4;

void check_file(const std::string& args, double rel_tol_default_kernels) {
  SCOPED_TRACE(args);
  const std::string path = train_fixture(args);
  ASSERT_FALSE(path.empty());
  train::TorchModel m = train::load_gguf_model(path);
  const auto tokens = some_tokens(12, m->hparams().n_vocab, 7);
  const auto ours = torch_logits(*m, tokens);
  // The scalar kernels multiply by exactly dequantized weights in F32, as the torch model
  // does, so they agree tightly whatever the weight type.
  const auto exact = native_logits(path, tokens, nullptr, &scalar_kernels());
  const auto d0 = compare(ours, exact);
  EXPECT_LE(d0.max_abs, kF32Tol * std::max(1.0, d0.scale)) << "vs scalar kernels, logit scale " << d0.scale;
  EXPECT_GT(d0.scale, 1.0) << "degenerate fixture: logits too small to tell implementations apart";
  // The default (SIMD) kernels round activations like llama.cpp for quantized weights.
  const auto fast = native_logits(path, tokens);
  const auto d1 = compare(ours, fast);
  EXPECT_LE(d1.max_abs, rel_tol_default_kernels * std::max(1.0, d1.scale))
      << "vs default kernels, logit scale " << d1.scale << ", rms rel " << d1.rms_rel;
}

TEST(TrainParity, Qwen3TinyF32) { check_file("model --arch qwen3 --preset tiny --type f32 --seed 3", kF32Tol); }

// head_dim 128 while n_embd / n_head = 64 (Qwen3-0.6B's layout).
TEST(TrainParity, Qwen3HeadDimNotEmbdOverHeads) {
  check_file("model --arch qwen3 --preset tiny-hd --type f32 --seed 4", kF32Tol);
}

TEST(TrainParity, Qwen3UntiedOutput) {
  check_file("model --arch qwen3 --preset tiny --type f32 --untied --seed 5", kF32Tol);
}

// Quantized files: tolerances of tests/model (activations rounded to F16 / 8-bit blocks by the
// SIMD kernels cost ~2% / ~5% of the logit scale in these random 2-3 layer models).
TEST(TrainParity, Qwen3F16) { check_file("model --arch qwen3 --preset tiny --type f16 --seed 6", 2e-2); }
TEST(TrainParity, Qwen3Q8_0) { check_file("model --arch qwen3 --preset tiny-hd --type q8_0 --seed 8", 0.12); }

// GPT-2: LayerNorm, fused QKV with biases, tanh GELU, learned positions.
TEST(TrainParity, Gpt2TinyF32) { check_file("model --arch gpt2 --preset tiny --type f32 --std 0.15 --seed 9", kF32Tol); }
TEST(TrainParity, Gpt2Q8_0) { check_file("model --arch gpt2 --preset tiny --type q8_0 --std 0.15 --seed 10", 0.12); }

// A model made by the training layer, exported, read by the native loader.
train::ModelConfig small_qwen3(int64_t n_vocab) {
  train::ModelConfig c;
  HParams& hp = c.hp;
  hp.arch = Arch::Qwen3;
  hp.n_vocab = n_vocab;
  hp.n_embd = 64;
  hp.n_layer = 2;
  hp.n_head = 4;
  hp.n_head_kv = 2;
  hp.head_dim_k = hp.head_dim_v = 32;  // != 64 / 4
  hp.n_ff = 96;
  hp.n_ctx_train = 256;
  hp.norm_eps = 1e-6;
  hp.rope_theta = 10000.0;
  return c;
}

TEST(TrainExport, Qwen3RoundTripThroughNativeLoader) {
  // Borrow a vocabulary from a fixture file; the model has more rows than tokens (padding).
  const std::string fx = train_fixture("model --arch qwen3 --preset tiny --type f32 --seed 11");
  ASSERT_FALSE(fx.empty());
  const Tokenizer tok = Tokenizer::from_gguf(GGUFFile::open(fx));
  train::TorchModel m(small_qwen3(tok.n_vocab() + 5));
  m->init_weights(0.25, 42);
  const std::string dir = test::scratch_dir("train-export");
  const std::string out = dir + "/m.gguf";
  train::ExportOptions eo;
  eo.tokenizer = &tok;
  train::export_gguf(*m, out, eo);

  // Native forward equals ours.
  const auto tokens = some_tokens(10, m->hparams().n_vocab, 3);
  const auto d = compare(torch_logits(*m, tokens), native_logits(out, tokens));
  EXPECT_LE(d.max_abs, kF32Tol * std::max(1.0, d.scale)) << "logit scale " << d.scale;

  // Metadata: every key of the independent fixture writer (same architecture) is present with
  // the same value type; the tokenizer round-trips.
  const GGUFFile ours = GGUFFile::open(out), theirs = GGUFFile::open(fx);
  for (const auto& [key, v] : theirs.metadata()) {
    if (key == "general.name" || key.rfind("tokenizer.", 0) == 0) continue;
    const GGUFValue* o = ours.find(key);
    ASSERT_NE(o, nullptr) << "export lacks metadata key " << key;
    EXPECT_EQ(o->type(), v.type()) << key;
  }
  EXPECT_EQ(ours.get_u64("qwen3.attention.key_length"), 32u);
  EXPECT_EQ(ours.get_string("general.architecture"), "qwen3");
  EXPECT_EQ(ours.find_tensor("output.weight"), nullptr);  // tied
  const Tokenizer back = Tokenizer::from_gguf(ours);
  const std::string text = "Classify: server down -> immediate\n";
  EXPECT_EQ(back.encode(text), tok.encode(text));

  // Loading the export gives back bit-identical parameters.
  train::TorchModel again = train::load_gguf_model(out);
  const auto a = m->gguf_tensors(), b = again->gguf_tensors();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) EXPECT_TRUE(torch::equal(t, b.at(name))) << name;
}

TEST(TrainExport, Q8_0AndGpt2) {
  // Q8_0 Qwen3 export: the native default kernels within the quantized tolerance.
  train::TorchModel q(small_qwen3(300));
  q->init_weights(0.25, 5);
  const std::string dir = test::scratch_dir("train-export-q8");
  train::ExportOptions eo;
  eo.type = DType::Q8_0;
  train::export_gguf(*q, dir + "/q.gguf", eo);
  EXPECT_EQ(GGUFFile::open(dir + "/q.gguf").find_tensor("blk.0.attn_q.weight")->type, DType::Q8_0);
  EXPECT_EQ(GGUFFile::open(dir + "/q.gguf").find_tensor("blk.0.attn_norm.weight")->type, DType::F32);
  const auto tq = some_tokens(9, 300, 1);
  const auto dq = compare(torch_logits(*q, tq), native_logits(dir + "/q.gguf", tq));
  EXPECT_LE(dq.max_abs, 0.12 * std::max(1.0, dq.scale)) << "logit scale " << dq.scale;

  // GPT-2 with an untied head, F32.
  train::ModelConfig c;
  c.hp.arch = Arch::Gpt2;
  c.hp.n_vocab = 300;
  c.hp.n_embd = 64;
  c.hp.n_layer = 2;
  c.hp.n_head = c.hp.n_head_kv = 4;
  c.hp.head_dim_k = c.hp.head_dim_v = 16;
  c.hp.n_ff = 128;
  c.hp.n_ctx_train = 64;
  c.hp.norm_eps = 1e-5;
  c.tied = false;
  train::TorchModel g(c);
  g->init_weights(0.15, 6);
  {  // non-zero biases so that a forward that drops them is caught
    torch::NoGradGuard ng;
    for (auto& kv : g->named_parameters())
      if (kv.key().find(".bias") != std::string::npos) kv.value().normal_(0.0, 0.1);
  }
  train::export_gguf(*g, dir + "/g.gguf");
  const auto tg = some_tokens(11, 300, 2);
  const auto dg = compare(torch_logits(*g, tg), native_logits(dir + "/g.gguf", tg));
  EXPECT_LE(dg.max_abs, kF32Tol * std::max(1.0, dg.scale)) << "logit scale " << dg.scale;
}

// Right padding leaves the real tokens' logits unchanged (causal attention), and a packed row
// [A | B] with segment ids equals A and B run alone (mask + position restart).
TEST(TrainForward, PaddingAndPackedSegments) {
  train::TorchModel m(small_qwen3(200));
  m->init_weights(0.25, 9);
  const auto a = some_tokens(7, 200, 1), b = some_tokens(5, 200, 2);
  const auto la = torch_logits(*m, a), lb = torch_logits(*m, b);
  const int64_t V = 200;

  torch::NoGradGuard ng;
  std::vector<int64_t> packed(a.begin(), a.end());
  packed.insert(packed.end(), b.begin(), b.end());
  std::vector<int64_t> seg(a.size(), 0);
  seg.insert(seg.end(), b.size(), 1);
  const auto T = static_cast<int64_t>(packed.size());
  const torch::Tensor out = m->forward(torch::tensor(packed).view({1, T}), nullptr, torch::tensor(seg).view({1, T}));
  const torch::Tensor oa = out[0].narrow(0, 0, 7).contiguous(), ob = out[0].narrow(0, 7, 5).contiguous();
  EXPECT_LE(compare({oa.data_ptr<float>(), oa.data_ptr<float>() + oa.numel()}, la).max_abs, 1e-5);
  EXPECT_LE(compare({ob.data_ptr<float>(), ob.data_ptr<float>() + ob.numel()}, lb).max_abs, 1e-5);

  // Batch of two rows: b right-padded to a's length.
  std::vector<int64_t> rows(a.begin(), a.end());
  rows.insert(rows.end(), b.begin(), b.end());
  rows.insert(rows.end(), 2, 0);
  const torch::Tensor o2 = m->forward(torch::tensor(rows).view({2, 7}));
  const torch::Tensor r1 = o2[1].narrow(0, 0, 5).contiguous();
  EXPECT_LE(compare({r1.data_ptr<float>(), r1.data_ptr<float>() + 5 * V}, lb).max_abs, 1e-5);
}

// Packed training must give the same gradients as the examples one by one: two rows of three
// segments each (plus right padding), summed NLL, against the sum over separate forwards.
TEST(TrainForward, PackedRowsGiveTheGradientsOfSeparateExamples) {
  train::TorchModel m(small_qwen3(200));
  m->init_weights(0.25, 11);
  const std::vector<std::vector<int64_t>> rows_of = {{9, 5, 7}, {6, 11, 4}};  // segment lengths
  const int64_t T = 22;  // longest row (21) + 1 padding
  std::vector<int64_t> tokens, segs;
  std::vector<std::vector<int32_t>> examples;
  uint64_t seed = 3;
  for (const auto& lens : rows_of) {
    int64_t used = 0;
    for (size_t e = 0; e < lens.size(); ++e) {
      examples.push_back(some_tokens(static_cast<size_t>(lens[e]), 200, seed++));
      for (int32_t t : examples.back()) tokens.push_back(t), segs.push_back(static_cast<int64_t>(e));
      used += lens[e];
    }
    for (; used < T; ++used) tokens.push_back(0), segs.push_back(-1);
  }
  auto grads = [&] {
    std::vector<torch::Tensor> g;
    for (auto& p : m->parameters()) g.push_back(p.grad().clone()), p.mutable_grad().zero_();
    return g;
  };
  // Targets: next token within a segment, -1 across segment ends and on padding.
  std::vector<int64_t> targets(tokens.size(), -1);
  for (size_t i = 0; i + 1 < tokens.size(); ++i)
    if (segs[i] >= 0 && segs[i + 1] == segs[i] && (i + 1) % T != 0) targets[i] = tokens[i + 1];
  for (auto& p : m->parameters()) p.mutable_grad() = torch::zeros_like(p);
  const torch::Tensor logits = m->forward(torch::tensor(tokens).view({2, T}), nullptr, torch::tensor(segs).view({2, T}));
  at::cross_entropy_loss(logits.reshape({-1, 200}), torch::tensor(targets), {}, at::Reduction::Sum, -1).backward();
  const auto packed = grads();
  for (const auto& ex : examples) {
    std::vector<int64_t> t(ex.begin(), ex.end());
    const auto n = static_cast<int64_t>(t.size());
    const torch::Tensor l = m->forward(torch::tensor(t).view({1, n}));
    at::cross_entropy_loss(l[0].narrow(0, 0, n - 1), torch::tensor(t).narrow(0, 1, n - 1), {}, at::Reduction::Sum)
        .backward();
  }
  const auto separate = grads();
  ASSERT_EQ(packed.size(), separate.size());
  for (size_t i = 0; i < packed.size(); ++i) {
    const double scale = separate[i].abs().max().item<double>();
    EXPECT_GT(scale, 0) << "parameter #" << i << " got no gradient";
    EXPECT_LE((packed[i] - separate[i]).abs().max().item<double>(), 1e-4 * std::max(1.0, scale)) << "parameter #" << i;
  }
}

TEST(TrainForward, ParameterCountFormula) {
  train::ModelConfig q = small_qwen3(77), g = q;
  g.hp.arch = Arch::Gpt2;
  g.hp.n_head_kv = 4;
  g.hp.head_dim_k = g.hp.head_dim_v = 16;
  g.hp.rope_theta = 0;
  for (train::ModelConfig c : {q, g}) {
    for (bool tied : {true, false}) {
      c.tied = tied;
      train::TorchModel m(c);
      int64_t n = 0;
      for (const auto& p : m->parameters()) n += p.numel();
      EXPECT_EQ(train::count_params(c), n) << arch_name(c.hp.arch) << (tied ? " tied" : " untied");
    }
  }
}

TEST(TrainForward, BadInputsAreErrors) {
  train::TorchModel m(small_qwen3(50));
  m->init_weights(0.02, 1);
  EXPECT_THROW(m->forward(torch::tensor(std::vector<int64_t>{1, 50}).view({1, 2})), Error);
  train::LoraSet bad;
  bad.pairs["blk.9.attn_q.weight"] = {torch::zeros({2, 64}), torch::zeros({128, 2})};
  EXPECT_THROW(m->forward(torch::tensor(std::vector<int64_t>{1, 2}).view({1, 2}), &bad), Error);
  // A file of another shape is refused, naming the tensor.
  const std::string fx = train_fixture("model --arch qwen3 --preset tiny --type f32 --seed 11");
  try {
    train::load_gguf_weights(*m, GGUFFile::open(fx));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("token_embd.weight"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace paw
