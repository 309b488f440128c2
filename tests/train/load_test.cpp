// load_model: a Hugging Face folder (config.json + model.safetensors) written from a fixture
// GGUF under the published transformers names (tests/common/hf_fixture.hpp, independent of the
// native loader's mapping) gives a TorchModel whose every parameter equals the one loaded from
// the GGUF itself — so recipes can start (`model.init`) from either.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <string>

#include "common/hf_fixture.hpp"
#include "paw/train/gguf_io.hpp"
#include "paw/util/error.hpp"
#include "train/train_test_util.hpp"

namespace paw {
namespace {

void expect_same_parameters(const std::string& arch, const std::string& fixture_args, std::string config) {
  const std::string gguf = test::train_fixture(fixture_args);
  ASSERT_FALSE(gguf.empty());
  train::TorchModel from_gguf = train::load_gguf_model(gguf);
  config.replace(config.find("VOCAB"), 5, std::to_string(from_gguf->hparams().n_vocab));
  const std::string dir = test::write_hf(gguf, arch, config);
  train::TorchModel from_hf = train::load_model(dir);

  EXPECT_EQ(from_hf->hparams().n_layer, from_gguf->hparams().n_layer);
  EXPECT_EQ(from_hf->hparams().head_dim_k, from_gguf->hparams().head_dim_k);
  EXPECT_EQ(from_hf->config().tied, from_gguf->config().tied);
  const auto a = from_gguf->named_parameters(), b = from_hf->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& kv : a) {
    const torch::Tensor* other = b.find(kv.key());
    ASSERT_NE(other, nullptr) << kv.key();
    EXPECT_TRUE(torch::equal(kv.value(), *other)) << arch << " " << kv.key();
  }
  // A GGUF path still goes to the GGUF loader.
  EXPECT_TRUE(torch::equal(train::load_model(gguf)->named_parameters()[0].value(), a[0].value()));
}

TEST(TrainLoad, Qwen3FromAHuggingFaceFolder) {
  expect_same_parameters("qwen3", "model --arch qwen3 --preset tiny-hd --type f32 --seed 61",
                         test::kQwen3TinyHdConfig);
}

TEST(TrainLoad, Gpt2FromAHuggingFaceFolderWithConv1DWeights) {
  expect_same_parameters("gpt2", "model --arch gpt2 --preset tiny --type f32 --seed 62",
                         test::kGpt2TinyConfig);
}

TEST(TrainLoad, AFolderWithoutACheckpointIsAClearError) {
  const std::string dir = test::scratch_dir("train-load-empty");
  try {
    train::load_model(dir);
    FAIL() << "expected paw::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir), std::string::npos) << e.what();
  }
}

TEST(TrainLoad, ALlamaModelIsRefusedWithTheReason) {
  // The native runtime runs llama files; the trainer's modules are qwen3 and gpt2 only.
  const std::string gguf = test::train_fixture("model --arch llama --preset tiny --type f32 --seed 63");
  for (auto load : {&train::load_gguf_model, &train::load_model}) {
    try {
      load(gguf);
      FAIL() << "expected paw::Error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("cannot train a llama model"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace paw
