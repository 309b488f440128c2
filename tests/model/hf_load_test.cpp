// Hugging Face checkpoints (config.json + model.safetensors): the same random weights as a
// fixture GGUF, renamed and laid out as transformers stores them, must give the reference's
// logits for the GGUF file.
#include <gtest/gtest.h>

#include <string>

#include "model/forward_harness.hpp"
#include "common/hf_fixture.hpp"
#include "common/model_test_util.hpp"

namespace paw {
namespace {

using test::fixture;
using test::write_hf;

void check(const std::string& arch, const std::string& fixture_args, const std::string& config_fmt) {
  const std::string gguf = fixture(fixture_args);
  const auto g = Model::load(gguf);
  std::string config = config_fmt;
  config.replace(config.find("VOCAB"), 5, std::to_string(g->hparams().n_vocab));
  const auto hf = Model::load(write_hf(gguf, arch, config));
  EXPECT_EQ(hf->gguf(), nullptr);
  EXPECT_EQ(hf->hparams().head_dim_k, g->hparams().head_dim_k);
  EXPECT_EQ(hf->linears().size(), g->linears().size());
  const auto tokens = test::sample_tokens(8, static_cast<int32_t>(g->hparams().n_vocab), 17);
  const auto ref = test::reference(gguf, tokens);
  for (const KernelTable* kt : test::tables_to_test()) {
    test::PawArgs pa;
    pa.kt = kt;
    const auto got = test::run_paw(*hf, tokens, AdapterBinding{}, pa);
    test::expect_logits_near(got.logits.data(), ref.logits, test::logit_tolerance(DType::F32, *kt),
                             arch + " from safetensors [" + kt->name + "]");
  }
}

TEST(HfCheckpoint, Qwen3ConfigAndSafetensors) {
  check("qwen3", "model --arch qwen3 --preset tiny-hd --type f32 --seed 51", test::kQwen3TinyHdConfig);
}

TEST(HfCheckpoint, Gpt2Conv1DWeightsAreTransposed) {
  check("gpt2", "model --arch gpt2 --preset tiny --type f32 --seed 52", test::kGpt2TinyConfig);
}

}  // namespace
}  // namespace paw
