// LoRA in the libtorch models: gradients reach a network that produces A/B (checked against
// finite differences), batched per-row adapters, LoRA math against merged weights, and the
// exported adapter GGUF against the native runtime (and a fixture adapter read back).
#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <string>

#include "paw/adapter/lora.hpp"
#include "paw/train/gguf_io.hpp"
#include "paw/train/lora.hpp"
#include "paw/util/error.hpp"
#include "train/train_test_util.hpp"

namespace paw {
namespace {

using test::compare;
using test::native_logits;
using test::some_tokens;
using test::torch_logits;
using test::train_fixture;

train::ModelConfig cfg(Arch arch = Arch::Qwen3) {
  train::ModelConfig c;
  HParams& hp = c.hp;
  hp.arch = arch;
  hp.n_vocab = 100;
  hp.n_embd = 32;
  hp.n_layer = 2;
  hp.n_head = 4;
  hp.n_head_kv = arch == Arch::Qwen3 ? 2 : 4;
  hp.head_dim_k = hp.head_dim_v = arch == Arch::Qwen3 ? 16 : 8;
  hp.n_ff = 48;
  hp.n_ctx_train = 64;
  hp.norm_eps = 1e-6;
  hp.rope_theta = arch == Arch::Qwen3 ? 10000.0 : 0.0;
  return c;
}

torch::Tensor next_token_loss(const torch::Tensor& logits, const torch::Tensor& tokens) {
  const int64_t T = tokens.size(1), V = logits.size(-1);
  return at::cross_entropy_loss(logits.narrow(1, 0, T - 1).reshape({-1, V}), tokens.narrow(1, 1, T - 1).reshape({-1}));
}

// A frozen interpreter; a small Linear maps a code vector to the A/B of two linears. The
// producer's weights get gradients, equal to central finite differences of the loss.
TEST(TrainLora, GradientsFlowIntoTheProducer) {
  train::TorchModel m(cfg());
  m->init_weights(0.25, 3);
  m->to(torch::kDouble);
  m->set_frozen(true);
  const int64_t r = 2;
  struct Target {
    std::string name;
    int64_t n_in, n_out;
  };
  const std::vector<Target> targets = {{"blk.0.attn_q.weight", 32, 64}, {"blk.1.ffn_down.weight", 48, 32}};
  int64_t n_out = 0;
  for (const auto& t : targets) n_out += r * t.n_in + t.n_out * r;
  torch::manual_seed(1);
  torch::nn::Linear producer(8, n_out);
  producer->to(torch::kDouble);
  const torch::Tensor code = torch::randn({8}, torch::kDouble);
  const torch::Tensor tokens = torch::tensor(std::vector<int64_t>{5, 17, 2, 99, 40, 3, 8}).view({1, 7});

  auto loss_fn = [&]() {
    const torch::Tensor flat = producer->forward(code) * 0.5;  // [n_out]
    train::LoraSet set;
    set.alpha = 4.0;
    int64_t at = 0;
    for (const auto& t : targets) {
      torch::Tensor a = flat.narrow(0, at, r * t.n_in).view({r, t.n_in});
      at += r * t.n_in;
      torch::Tensor b = flat.narrow(0, at, t.n_out * r).view({t.n_out, r});
      at += t.n_out * r;
      set.pairs[t.name] = {a, b};
    }
    return next_token_loss(m->forward(tokens, &set), tokens);
  };

  const torch::Tensor loss = loss_fn();
  loss.backward();
  const torch::Tensor g = producer->weight.grad();
  ASSERT_TRUE(g.defined());
  EXPECT_GT(g.abs().max().item<double>(), 1e-6);
  EXPECT_GT(producer->bias.grad().abs().max().item<double>(), 1e-6);
  for (const auto& p : m->parameters()) EXPECT_FALSE(p.grad().defined()) << "the frozen base got a gradient";

  // Finite differences on the element with the largest gradient and on an arbitrary one.
  const int64_t big = g.abs().argmax().item<int64_t>();
  for (int64_t flat_idx : {big, int64_t{37}}) {
    const int64_t i = flat_idx / g.size(1), j = flat_idx % g.size(1);
    const double eps = 1e-5;
    double plus, minus;
    {
      torch::NoGradGuard ng;
      const double w0 = producer->weight[i][j].item<double>();
      producer->weight[i][j] = w0 + eps;
      plus = loss_fn().item<double>();
      producer->weight[i][j] = w0 - eps;
      minus = loss_fn().item<double>();
      producer->weight[i][j] = w0;
    }
    const double fd = (plus - minus) / (2 * eps);
    const double an = g[i][j].item<double>();
    EXPECT_NEAR(an, fd, 1e-6 * std::max(1.0, std::abs(fd))) << "element (" << i << ", " << j << ")";
  }
}

// y = W x + s B A x equals the model with W' = W + s B A and no LoRA (an independent path).
TEST(TrainLora, MatchesMergedWeights) {
  for (Arch arch : {Arch::Qwen3, Arch::Gpt2}) {
    train::TorchModel m(cfg(arch));
    m->init_weights(0.25, 4);
    train::LoraConfig lc;
    lc.rank = 4;
    lc.alpha = 8;
    lc.targets = arch == Arch::Qwen3 ? std::vector<std::string>{"q", "k", "v", "o", "gate", "up", "down"}
                                     : std::vector<std::string>{"qkv", "o", "up", "down"};
    train::LoraModule lora(*m, lc, 7);
    const auto fresh = lora->lora_set();
    const auto tokens = some_tokens(9, 100, 5);
    // B = 0 at init: no change.
    EXPECT_LE(compare(torch_logits(*m, tokens, &fresh), torch_logits(*m, tokens)).max_abs, 0.0);
    {
      torch::NoGradGuard ng;
      for (auto& p : lora->parameters()) p.normal_(0.0, 0.2);
    }
    const auto set = lora->lora_set();
    const auto with = torch_logits(*m, tokens, &set);
    train::TorchModel merged(cfg(arch));
    {
      torch::NoGradGuard ng;
      auto src = m->gguf_tensors();
      for (auto& kv : merged->named_parameters()) {
        torch::Tensor w = src.at(kv.key()).clone();
        if (auto it = set.pairs.find(kv.key()); it != set.pairs.end())
          w += (lc.alpha / static_cast<double>(lc.rank)) * torch::matmul(it->second.b, it->second.a);
        kv.value().copy_(w);
      }
    }
    const auto d = compare(with, torch_logits(*merged, tokens));
    EXPECT_LE(d.max_abs, 1e-4 * std::max(1.0, d.scale)) << arch_name(arch);
    EXPECT_GT(compare(with, torch_logits(*m, tokens)).max_abs, 0.1) << "the LoRA had no visible effect";
  }
}

// Per-row adapters [B, r, n_in] give each row what its own unbatched adapter gives.
TEST(TrainLora, BatchedPerRowAdapters) {
  train::TorchModel m(cfg());
  m->init_weights(0.25, 5);
  torch::manual_seed(3);
  const std::string name = "blk.1.attn_v.weight";  // [32 -> 32]
  const torch::Tensor a = torch::randn({2, 3, 32}) * 0.3, b = torch::randn({2, 32, 3}) * 0.3;
  train::LoraSet batched;
  batched.alpha = 3;
  batched.pairs[name] = {a, b};
  const auto t0 = some_tokens(6, 100, 1), t1 = some_tokens(6, 100, 2);
  std::vector<int64_t> both(t0.begin(), t0.end());
  both.insert(both.end(), t1.begin(), t1.end());
  torch::NoGradGuard ng;
  const torch::Tensor out = m->forward(torch::tensor(both).view({2, 6}), &batched);
  for (int64_t row = 0; row < 2; ++row) {
    train::LoraSet one;
    one.alpha = 3;
    one.pairs[name] = {a[row], b[row]};
    const auto ref = torch_logits(*m, row == 0 ? t0 : t1, &one);
    const torch::Tensor got = out[row].contiguous();
    EXPECT_LE(compare({got.data_ptr<float>(), got.data_ptr<float>() + got.numel()}, ref).max_abs, 1e-5) << row;
  }
}

TEST(TrainLora, TargetsAreValidated) {
  train::TorchModel g(cfg(Arch::Gpt2));
  train::LoraConfig lc;
  lc.targets = {"gate"};  // GPT-2 has no gate
  EXPECT_THROW(train::lora_targets(*g, lc), Error);
  lc.targets = {"bogus"};
  EXPECT_THROW(train::lora_targets(*g, lc), Error);
  lc.targets = {"qkv"};
  lc.layers = {1};
  const auto t = train::lora_targets(*g, lc);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].name, "blk.1.attn_qkv.weight");
  EXPECT_EQ(t[0].n_out, 96);
}

// Trained LoRA -> adapter GGUF -> native Session with the adapter attached: same logits as
// libtorch with the LoRA, on a fixture base model (Qwen3 all modules, GPT-2 fused QKV).
void check_native_adapter(const std::string& model_args, std::vector<std::string> targets, DType type, double tol) {
  SCOPED_TRACE(model_args);
  const std::string base = train_fixture(model_args);
  ASSERT_FALSE(base.empty());
  train::TorchModel m = train::load_gguf_model(base);
  train::LoraConfig lc;
  lc.rank = 32;
  lc.alpha = 16;
  lc.targets = std::move(targets);
  train::LoraModule lora(*m, lc, 11);
  {
    torch::NoGradGuard ng;
    for (auto& p : lora->parameters()) p.normal_(0.0, 0.05);
  }
  const std::string out = test::scratch_dir("train-lora") + "/adapter.gguf";
  const auto set = lora->lora_set();
  train::export_lora_gguf(set, std::string(arch_name(m->hparams().arch)), out, type);
  const auto adapter = LoraAdapter::load_gguf(out);
  EXPECT_EQ(adapter->pairs().size(), set.pairs.size());
  EXPECT_FLOAT_EQ(adapter->alpha(), 16.0f);

  const auto tokens = some_tokens(10, m->hparams().n_vocab, 4);
  const auto ours = torch_logits(*m, tokens, &set);
  const auto theirs = native_logits(base, tokens, adapter, &scalar_kernels());
  const auto d = compare(ours, theirs);
  EXPECT_LE(d.max_abs, tol * std::max(1.0, d.scale)) << "logit scale " << d.scale;
  // ... and the adapter matters far more than the tolerance.
  EXPECT_GT(compare(theirs, native_logits(base, tokens, nullptr, &scalar_kernels())).max_abs, 0.5);
}

TEST(TrainLora, ExportMatchesNativeQwen3) {
  check_native_adapter("model --arch qwen3 --preset tiny-hd --type f32 --seed 12",
                       {"q", "k", "v", "o", "gate", "up", "down"}, DType::F32, 1e-4);
}

TEST(TrainLora, ExportMatchesNativeGpt2) {
  check_native_adapter("model --arch gpt2 --preset tiny --type f32 --std 0.15 --seed 13", {"qkv", "o", "up", "down"},
                       DType::F32, 1e-4);
}

// A Q8_0 adapter: the file holds rounded A/B, so libtorch with the exported-then-reloaded
// values must match the native runtime tightly, and the unrounded LoRA loosely.
TEST(TrainLora, Q8_0AdapterReadBack) {
  const std::string base = train_fixture("model --arch qwen3 --preset tiny --type f32 --seed 14");
  ASSERT_FALSE(base.empty());
  train::TorchModel m = train::load_gguf_model(base);
  train::LoraConfig lc;
  lc.rank = 32;
  lc.alpha = 32;
  train::LoraModule lora(*m, lc, 2);
  {
    torch::NoGradGuard ng;
    for (auto& p : lora->parameters()) p.normal_(0.0, 0.05);
  }
  const std::string out = test::scratch_dir("train-lora-q8") + "/a.gguf";
  train::export_lora_gguf(lora->lora_set(), "qwen3", out, DType::Q8_0);
  const train::LoraSet back = train::load_lora_gguf(out);
  ASSERT_EQ(back.pairs.size(), lora->lora_set().pairs.size());
  EXPECT_DOUBLE_EQ(back.alpha, 32.0);
  const auto tokens = some_tokens(8, m->hparams().n_vocab, 6);
  const auto native = native_logits(base, tokens, LoraAdapter::load_gguf(out), &scalar_kernels());
  const auto d = compare(torch_logits(*m, tokens, &back), native);
  EXPECT_LE(d.max_abs, 1e-4 * std::max(1.0, d.scale));

  // A fixture-written adapter (independent writer) read by load_lora_gguf agrees too.
  const std::string fx = train_fixture("lora --model " + base + " --rank 8 --alpha 16 --seed 3");
  ASSERT_FALSE(fx.empty());
  const train::LoraSet fset = train::load_lora_gguf(fx);
  const auto d2 = compare(torch_logits(*m, tokens, &fset),
                          native_logits(base, tokens, LoraAdapter::load_gguf(fx), &scalar_kernels()));
  EXPECT_LE(d2.max_abs, 1e-4 * std::max(1.0, d2.scale));
}

}  // namespace
}  // namespace paw
