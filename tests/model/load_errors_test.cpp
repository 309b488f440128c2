// Loading errors name the tensor and the expected shape; bad requests are refused up front.
#include <gtest/gtest.h>

#include <string>

#include "model/forward_harness.hpp"
#include "common/model_test_util.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

using test::fixture;

// Copies a GGUF, dropping `drop` and giving `reshape` a different shape (same bytes).
std::string rewrite(const std::string& src, const std::string& drop, const std::string& reshape,
                    std::vector<int64_t> new_ne, const std::string& name) {
  const GGUFFile f = GGUFFile::open(src);
  GGUFWriter w;
  for (const auto& [k, v] : f.metadata()) w.set(k, v);
  for (const auto& t : f.tensors()) {
    if (t.name == drop) continue;
    w.add_tensor(t.name, t.type, t.name == reshape ? new_ne : t.ne, t.data, t.n_bytes);
  }
  const std::string out = test::scratch_dir("broken") + "/" + name + ".gguf";
  w.write(out);
  return out;
}

std::string load_error(const std::string& path) {
  try {
    Model::load(path);
  } catch (const Error& e) {
    return e.what_failed() + " | " + e.where();
  }
  return "";
}

TEST(LoadErrors, MissingTensorIsNamedWithItsExpectedShape) {
  const std::string good = fixture("model --arch qwen3 --preset tiny --type f32 --seed 1");
  const std::string msg = load_error(rewrite(good, "blk.1.ffn_up.weight", "", {}, "missing"));
  EXPECT_NE(msg.find("blk.1.ffn_up.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[256, 512]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("n_embd, n_ff"), std::string::npos) << msg;
}

TEST(LoadErrors, WrongShapeNamesTensorExpectedAndActual) {
  const std::string good = fixture("model --arch qwen3 --preset tiny --type f32 --seed 1");
  // attn_k is [256, 128] (n_embd, n_head_kv*head_dim); present it as [128, 256].
  const std::string msg = load_error(rewrite(good, "", "blk.0.attn_k.weight", {128, 256}, "shape"));
  EXPECT_NE(msg.find("blk.0.attn_k.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[128, 256]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected [256, 128]"), std::string::npos) << msg;
}

TEST(LoadErrors, Gpt2MissingBias) {
  const std::string good = fixture("model --arch gpt2 --preset tiny --type f32 --seed 1");
  const std::string msg = load_error(rewrite(good, "blk.2.attn_qkv.bias", "", {}, "gpt2bias"));
  EXPECT_NE(msg.find("blk.2.attn_qkv.bias"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[768]"), std::string::npos) << msg;
}

TEST(LoadErrors, UnsupportedArchitecture) {
  const std::string good = fixture("model --arch qwen3 --preset tiny --type f32 --seed 1");
  const GGUFFile f = GGUFFile::open(good);
  GGUFWriter w;
  for (const auto& [k, v] : f.metadata()) w.set(k, v);
  w.set("general.architecture", GGUFValue::string("llama"));
  const std::string out = test::scratch_dir("broken") + "/llama.gguf";
  w.write(out);
  EXPECT_NE(load_error(out).find("llama"), std::string::npos);
}

TEST(ForwardErrors, BadRequestsAreRefusedBeforeEvaluation) {
  const auto m = Model::load(fixture("model --arch gpt2 --preset tiny --type f32 --seed 1"));
  const HParams& hp = m->hparams();
  KVCache kv(hp, 200, DType::F16);
  ForwardScratch s(*m, 8, 200, 1);
  AdapterBinding none;
  std::vector<float> logits(hp.n_vocab);
  const int32_t bad[] = {1, static_cast<int32_t>(hp.n_vocab)};
  ForwardRequest r;
  r.tokens = bad;
  r.logits = logits.data();
  EXPECT_THROW(forward(*m, none, kv, s, r), Error);  // token id out of range
  const int32_t ok[] = {1};
  r.tokens = ok;
  r.pos0 = hp.n_ctx_train;  // GPT-2 has no position past its table
  EXPECT_THROW(forward(*m, none, kv, s, r), Error);
  r.pos0 = 0;
  std::vector<int32_t> big(9, 1);
  r.tokens = big;  // larger than the scratch batch
  EXPECT_THROW(forward(*m, none, kv, s, r), Error);
}

}  // namespace
}  // namespace paw
