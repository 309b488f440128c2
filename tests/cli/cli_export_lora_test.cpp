// `paw export-lora`: the merged model's logits (paw logits) equal `paw logits --lora` on the
// base and the numpy reference's merged forward (ref_forward.py --merge), the reference run on
// the merged file itself agrees, and every untouched tensor and all metadata are copied as is.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "cli/cli_model_util.hpp"

namespace paw {
namespace {

using json = nlohmann::ordered_json;
using test::fixture;

const char* kPrompt = "<|im_start|>user\nmerge me<|im_end|>";

std::vector<float> paw_logits(const std::string& model, const std::string& loras, std::vector<int32_t>* ids = nullptr) {
  const json out = test::paw_json("logits --json -t 1 --kv-type f32 --model " + model + loras + " --prompt " +
                                  test::quote(kPrompt));
  if (!out.is_object()) return {};
  if (ids) *ids = out["prompt_ids"].get<std::vector<int32_t>>();
  return out["logits"].get<std::vector<float>>();
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, double(std::abs(a[i] - b[i])));
  return d;
}

// adapters: (file, scale); least: least precise type among base and adapters.
void check_export(const std::string& base, const std::vector<std::pair<std::string, float>>& adapters,
                  const std::string& type, DType least) {
  SCOPED_TRACE(base + " --type " + type);
  std::string loras;
  test::RefArgs ra;
  for (const auto& [f, s] : adapters) {
    loras += " --lora " + f + ":" + std::to_string(s);
    ra.loras.emplace_back(f, s);
  }
  const std::string merged = test::scratch_dir("export-lora") + "/merged.gguf";
  std::string ignored;
  ASSERT_EQ(test::run_command(test::paw_cmd("export-lora -t 1 --model " + base + loras + " -o " + merged + " --type " + type),
                              &ignored),
            0);

  std::vector<int32_t> ids;
  const auto unmerged = paw_logits(base, loras, &ids);
  const auto plain = paw_logits(base, "");
  const auto on_merged = paw_logits(merged, "");
  ASSERT_FALSE(on_merged.empty());
  EXPECT_GT(max_abs_diff(unmerged, plain), 0.5) << "the adapters must matter";
  const DType merged_type = type == "f16" ? DType::F16 : DType::F32;
  const DType tol_type = merged_type == DType::F16 && least == DType::F32 ? DType::F16 : least;
  const auto tl = test::logit_tolerance(tol_type);

  const std::vector<std::vector<double>> unmerged_ref = {std::vector<double>(unmerged.begin(), unmerged.end())};
  test::expect_logits_near(on_merged.data(), unmerged_ref, tl, "merged file vs paw --lora");
  ra.merge = true;
  test::expect_logits_near(on_merged.data(), test::last_row(test::reference(base, ids, ra).logits), tl,
                           "merged file vs reference --merge");
  // Untouched tensors keep the base's type: the least precise type still sets the tolerance.
  test::expect_logits_near(on_merged.data(), test::last_row(test::reference(merged, ids).logits), tl,
                           "merged file vs reference on the merged file");

  // Metadata identical and in order; tensors in order; untouched ones byte-identical.
  const auto b = GGUFFile::open(base), m = GGUFFile::open(merged);
  ASSERT_EQ(b.metadata().size(), m.metadata().size());
  for (size_t i = 0; i < b.metadata().size(); ++i) {
    EXPECT_EQ(b.metadata()[i].first, m.metadata()[i].first);
    EXPECT_EQ(b.metadata()[i].second.to_display(1 << 20), m.metadata()[i].second.to_display(1 << 20)) << b.metadata()[i].first;
  }
  const auto adapters_gguf = [&] {
    std::vector<GGUFFile> v;
    for (const auto& [f, s] : adapters) v.push_back(GGUFFile::open(f));
    return v;
  }();
  int merged_count = 0;
  ASSERT_GE(m.tensors().size(), b.tensors().size());
  for (size_t i = 0; i < b.tensors().size(); ++i) {
    const auto& tb = b.tensors()[i];
    const auto& tm = m.tensors()[i];
    EXPECT_EQ(tb.name, tm.name);
    EXPECT_EQ(tb.ne, tm.ne) << tb.name;
    bool targeted = false;
    for (const auto& a : adapters_gguf) targeted |= a.find_tensor(tb.name + ".lora_a") != nullptr;
    if (targeted) {
      EXPECT_EQ(tm.type, merged_type) << tb.name;
      ++merged_count;
    } else {
      EXPECT_EQ(tm.type, tb.type) << tb.name;
      ASSERT_EQ(tm.n_bytes, tb.n_bytes) << tb.name;
      EXPECT_EQ(std::memcmp(tm.data, tb.data, tb.n_bytes), 0) << tb.name << " was modified";
    }
  }
  EXPECT_GT(merged_count, 0);
}

TEST(CliExportLora, Qwen3TwoAdaptersF32AndF16) {
  const std::string m = fixture("model --arch qwen3 --preset tiny --type f32 --seed 121");
  const std::string a = fixture("lora --rank 8 --alpha 16 --type f32 --std 0.1 --seed 122 --model " + m);
  const std::string b = fixture("lora --rank 32 --alpha 16 --type q8_0 --std 0.1 --targets q,v,down --seed 123 --model " + m);
  check_export(m, {{a, 0.5f}, {b, 1.0f}}, "f32", DType::Q8_0);
  check_export(m, {{a, 0.5f}}, "f16", DType::F32);
}

TEST(CliExportLora, QuantizedBaseGpt2) {
  const std::string m = fixture("model --arch gpt2 --preset tiny --type q8_0 --seed 124");
  const std::string a = fixture("lora --rank 8 --alpha 16 --type f32 --std 0.1 --seed 125 --model " + m);
  check_export(m, {{a, 1.0f}}, "f32", DType::Q8_0);
}

TEST(CliExportLora, EmbeddingLoraOnTiedHeadKeepsTheHead) {
  const std::string m = fixture("model --arch qwen3 --preset tiny --type f32 --seed 126");
  const std::string a = fixture("lora --rank 8 --alpha 16 --type f32 --std 0.1 --targets embd,q --seed 127 --model " + m);
  check_export(m, {{a, 1.0f}}, "f32", DType::F32);
  // The merged file gained output.weight = the original token_embd.
  const std::string merged = test::scratch_dir("export-lora") + "/merged.gguf";
  const auto b = GGUFFile::open(m);
  std::string ignored;
  ASSERT_EQ(test::run_command(test::paw_cmd("export-lora -t 1 --model " + m + " --lora " + a + " -o " + merged), &ignored), 0);
  const auto out = GGUFFile::open(merged);
  ASSERT_EQ(b.find_tensor("output.weight"), nullptr);
  const auto* head = out.find_tensor("output.weight");
  const auto* embd = b.find_tensor("token_embd.weight");
  ASSERT_NE(head, nullptr);
  ASSERT_EQ(head->n_bytes, embd->n_bytes);
  EXPECT_EQ(std::memcmp(head->data, embd->data, embd->n_bytes), 0);
}

TEST(CliExportLora, MismatchedAdapterIsRefused) {
  const std::string m = fixture("model --arch qwen3 --preset tiny --type f32 --seed 121");
  const std::string other = fixture("model --arch qwen3 --preset tiny-hd --type f32 --seed 128");
  const std::string a = fixture("lora --rank 8 --alpha 16 --type f32 --std 0.1 --seed 129 --model " + other);
  const std::string out = test::scratch_dir("export-lora-bad") + "/merged.gguf";
  std::string err;
  EXPECT_NE(test::paw_status("export-lora -t 1 --model " + m + " --lora " + a + " -o " + out, &err), 0);
  EXPECT_NE(err.find("paw: error"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace paw
