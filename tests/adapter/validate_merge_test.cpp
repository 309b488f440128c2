// validate_adapter_for_model against a binding table, and the dense merge for export.
#include <gtest/gtest.h>

#include <map>

#include "adapter_test_util.hpp"
#include "paw/adapter/lora.hpp"
#include "paw/adapter/merge.hpp"
#include "paw/adapter/validate.hpp"
#include "common/test_env.hpp"

namespace paw {
namespace {

using test::adapter_writer;
using test::add_f32;
using test::expect_error;

// A = [[1,2,3],[4,5,6]] (r=2, n_in=3), B = [[1,0],[0,1],[1,1],[2,-1]] (n_out=4).
// B·A = [[1,2,3],[4,5,6],[5,7,9],[-2,-1,0]].
const std::vector<float> kA = {1, 2, 3, 4, 5, 6};
const std::vector<float> kB = {1, 0, 0, 1, 1, 1, 2, -1};

std::shared_ptr<const LoraAdapter> small_adapter(const std::string& arch = "qwen3", float alpha = 4.0f,
                                                 bool with_embd = false) {
  GGUFWriter w = adapter_writer(arch, alpha);
  add_f32(w, "blk.0.attn_q.weight.lora_a", 2, 3, kA);
  add_f32(w, "blk.0.attn_q.weight.lora_b", 4, 2, kB);
  if (with_embd) {
    add_f32(w, "token_embd.weight.lora_a", 5, 2, std::vector<float>(10, 1.0f));   // n_vocab 5
    add_f32(w, "token_embd.weight.lora_b", 3, 2, std::vector<float>(6, 1.0f));    // n_embd 3
  }
  const std::string path = test::scratch_dir("lora_validate") + "/a.gguf";
  w.write(path);
  return LoraAdapter::load_gguf(path);
}

BaseShapeFn table(std::map<std::string, std::array<int64_t, 2>> m) {
  return [m](const std::string& name) -> std::optional<std::array<int64_t, 2>> {
    auto it = m.find(name);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

TEST(LoraValidate, AcceptsMatchingModel) {
  auto ad = small_adapter("qwen3", 4.0f, true);
  EXPECT_NO_THROW(validate_adapter_for_model(
      *ad, "qwen3", table({{"blk.0.attn_q.weight", {3, 4}}, {"token_embd.weight", {3, 5}}})));
}

TEST(LoraValidate, Mismatches) {
  auto ad = small_adapter();
  expect_error([&] { validate_adapter_for_model(*ad, "gpt2", table({{"blk.0.attn_q.weight", {3, 4}}})); },
               {ad->path(), "'qwen3'", "'gpt2'"});
  expect_error([&] { validate_adapter_for_model(*ad, "qwen3", table({})); },
               {ad->path(), "blk.0.attn_q.weight", "no tensor"});
  expect_error([&] { validate_adapter_for_model(*ad, "qwen3", table({{"blk.0.attn_q.weight", {8, 4}}})); },
               {"blk.0.attn_q.weight", "n_in mismatch", "3", "8"});
  expect_error([&] { validate_adapter_for_model(*ad, "qwen3", table({{"blk.0.attn_q.weight", {3, 9}}})); },
               {"blk.0.attn_q.weight", "n_out mismatch", "4", "9"});
  auto ade = small_adapter("qwen3", 4.0f, true);
  expect_error([&] {
    validate_adapter_for_model(*ade, "qwen3", table({{"blk.0.attn_q.weight", {3, 4}}, {"token_embd.weight", {3, 7}}}));
  }, {"token_embd.weight", "n_vocab mismatch"});
}

TEST(LoraMerge, HandComputedMerge) {
  auto ad = small_adapter("qwen3", 4.0f);   // factor = 4/2 = 2
  const LoraPair* p = ad->find("blk.0.attn_q.weight");
  ASSERT_NE(p, nullptr);
  std::vector<float> w(12, 1.0f);           // [4, 3] of ones
  const LoraPair* pp[] = {p};
  const float scales[] = {0.5f};
  // W + 0.5·B·A
  EXPECT_EQ(merge_lora_into(w.data(), 4, 3, pp, scales),
            (std::vector<float>{1.5, 2, 2.5, 3, 3.5, 4, 3.5, 4.5, 5.5, 0, 0.5, 1}));
  // Two adapters through ActiveAdapter: scale = user · alpha/rank = 0.25·2 and 1·1 (alpha 0).
  auto ad0 = small_adapter("qwen3", 0.0f);
  ActiveAdapter act[] = {{ad, 0.25f}, {ad0, 1.0f}};
  EXPECT_EQ(merge_adapters_into(w.data(), 4, 3, "blk.0.attn_q.weight", act),
            (std::vector<float>{2.5, 4, 5.5, 7, 8.5, 10, 8.5, 11.5, 14.5, -2, -0.5, 1}));
  // A base name no adapter touches leaves W as is.
  EXPECT_EQ(merge_adapters_into(w.data(), 4, 3, "blk.0.attn_k.weight", act), w);
  expect_error([&] { merge_lora_into(w.data(), 3, 4, pp, scales); }, {"does not fit base"});
}

}  // namespace
}  // namespace paw
