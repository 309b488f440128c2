// Mixed precision (recipe "precision": "bf16"): the forward under the scope against the native
// F32 runtime on the same files, and the scope's effect on libtorch's autocast state.
#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/types.h>

#include <string>

#include "paw/train/gguf_io.hpp"
#include "paw/train/mixed_precision.hpp"
#include "train/train_test_util.hpp"

namespace paw {
namespace {

using test::compare;
using test::native_logits;
using test::some_tokens;
using test::torch_logits;
using test::train_fixture;

// bfloat16 keeps 8 significant bits (relative step 2^-8 = 0.4 %) per product input; on the
// tiny fixtures the logits stay within ~2.5 % of their scale at worst and ~1.7 % in RMS
// (measured), while a forward that dropped a term is off by tens of percent.
constexpr double kBf16MaxTol = 0.05, kBf16RmsTol = 0.03;

void check_bf16(const std::string& args) {
  SCOPED_TRACE(args);
  const std::string path = train_fixture(args);
  ASSERT_FALSE(path.empty());
  train::TorchModel m = train::load_gguf_model(path);
  const auto tokens = some_tokens(24, m->hparams().n_vocab, 11);
  const auto reference = native_logits(path, tokens, nullptr, &scalar_kernels());
  const auto f32 = torch_logits(*m, tokens);
  std::vector<float> bf16;
  {
    train::MixedPrecisionScope scope(true, torch::kCPU);
    EXPECT_TRUE(at::autocast::is_cpu_enabled());
    bf16 = torch_logits(*m, tokens);
  }
  EXPECT_FALSE(at::autocast::is_cpu_enabled()) << "the scope must restore autocast";
  const auto d = compare(bf16, reference);
  EXPECT_GT(d.scale, 1.0) << "degenerate fixture";
  EXPECT_LE(d.max_abs, kBf16MaxTol * d.scale) << "logit scale " << d.scale;
  EXPECT_LE(d.rms_rel, kBf16RmsTol);
  // The products really ran in bfloat16: the float forward matches the reference ~1000x closer.
  const auto d32 = compare(f32, reference);
  EXPECT_GT(d.max_abs, 20 * d32.max_abs) << "bf16 " << d.max_abs << " vs f32 " << d32.max_abs;
  // After the scope the float forward is bit-identical to before.
  EXPECT_EQ(torch_logits(*m, tokens), f32);
}

TEST(TrainPrecision, Bf16ForwardTracksNativeQwen3) {
  check_bf16("model --arch qwen3 --preset tiny --type f32 --seed 3");
}
TEST(TrainPrecision, Bf16ForwardTracksNativeGpt2) {
  check_bf16("model --arch gpt2 --preset tiny --type f32 --std 0.15 --seed 9");
}

TEST(TrainPrecision, DisabledScopeChangesNothing) {
  {
    train::MixedPrecisionScope scope(false, torch::kCPU);
    EXPECT_FALSE(at::autocast::is_cpu_enabled());
  }
  {  // nested scopes: the inner one must not switch autocast off for the outer one
    train::MixedPrecisionScope outer(true, torch::kCPU);
    { train::MixedPrecisionScope inner(true, torch::kCPU); }
    EXPECT_TRUE(at::autocast::is_cpu_enabled());
  }
  EXPECT_FALSE(at::autocast::is_cpu_enabled());
}

}  // namespace
}  // namespace paw
