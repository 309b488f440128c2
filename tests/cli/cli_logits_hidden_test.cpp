// `paw logits --json` and `paw hidden` against the independent numpy reference
// (tests/reference/ref_forward.py) on the prompt ids paw reports, within the tolerance the
// weight type allows (model_test_util.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "cli/cli_model_util.hpp"
#include "paw/formats/safetensors.hpp"

namespace paw {
namespace {

using json = nlohmann::ordered_json;
using test::fixture;

const char* kPrompt = "<|im_start|>user\nsort these: 3, 1, 2<|im_end|>\n<|im_start|>assistant\n";

// `kv`: paw's --kv-type; the reference rounds K/V to F16 when it is f16.
void check_logits(const std::string& model, DType type, const std::string& kv, const std::string& lora = {},
                  float scale = 1.0f) {
  SCOPED_TRACE(model + " kv " + kv + " " + lora);
  std::string args = "logits --json -t 1 --kv-type " + kv + " --model " + model + " --prompt " + test::quote(kPrompt);
  if (!lora.empty()) args += " --lora " + lora + ":" + std::to_string(scale);
  const json out = test::paw_json(args);
  ASSERT_TRUE(out.is_object());
  const auto prompt_ids = out["prompt_ids"].get<std::vector<int32_t>>();
  const auto logits = out["logits"].get<std::vector<float>>();
  test::RefArgs ra;
  ra.kv_f16 = kv == "f16";
  if (!lora.empty()) ra.loras.emplace_back(lora, scale);
  const auto ref = test::reference(model, prompt_ids, ra);
  ASSERT_EQ(logits.size(), ref.logits.back().size());
  test::expect_logits_near(logits.data(), test::last_row(ref.logits), test::logit_tolerance(type), "paw logits");

  // --top K: the K largest of the same logits, largest first.
  const json top = test::paw_json(args + " --top 5");
  ASSERT_TRUE(top.is_object());
  EXPECT_FALSE(top.contains("logits"));
  std::vector<int32_t> order(logits.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  ASSERT_EQ(top["top"].size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(top["top"][i][0].get<int32_t>(), order[i]) << i;
    EXPECT_EQ(top["top"][i][1].get<float>(), logits[order[i]]) << i;
  }
}

TEST(CliLogits, MatchesReference) {
  const std::string f32 = fixture("model --arch qwen3 --preset tiny --type f32 --seed 111");
  check_logits(f32, DType::F32, "f32");
  check_logits(f32, DType::F32, "f16");
  const std::string a = fixture("lora --rank 8 --alpha 16 --type f32 --std 0.1 --seed 112 --model " + f32);
  check_logits(f32, DType::F32, "f32", a, 0.75f);
  const std::string q8 = fixture("model --arch qwen3 --preset tiny-hd --type q8_0 --seed 113");
  const std::string b = fixture("lora --rank 32 --alpha 16 --type q4_0 --std 0.1 --seed 114 --model " + q8);
  check_logits(q8, DType::Q4_0, "f16", b, 1.0f);
  const std::string g = fixture("model --arch gpt2 --preset tiny --type f16 --seed 115");
  check_logits(g, DType::F16, "f16");
}

TEST(CliLogits, TopTableWithoutJson) {
  const std::string m = fixture("model --arch qwen3 --preset tiny --type f32 --seed 111");
  std::string out;
  ASSERT_EQ(test::run_command(test::paw_cmd("logits -t 1 --top 3 --model " + m + " --prompt hi"), &out), 0);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 4) << out;  // header + 3 rows
}

TEST(CliHidden, SafetensorsAndJsonMatchReference) {
  const std::string m = fixture("model --arch qwen3 --preset tiny --type f32 --seed 116");
  const std::string a = fixture("lora --rank 8 --alpha 16 --type f32 --std 0.1 --seed 117 --model " + m);
  const std::string file = test::scratch_dir("cli-hidden") + "/h.safetensors";
  const std::string common = "hidden -t 1 --kv-type f32 --model " + m + " --lora " + a + " --prompt " + test::quote(kPrompt) +
                             " --layers 0,-1,1 --last 3";
  std::string ignored;
  ASSERT_EQ(test::run_command(test::paw_cmd(common) + " -o " + file, &ignored), 0);
  const json js = test::paw_json(common);
  ASSERT_TRUE(js.is_object());
  const auto prompt_ids = js["prompt_ids"].get<std::vector<int32_t>>();
  const auto T = static_cast<int64_t>(prompt_ids.size());
  ASSERT_GT(T, 3);
  EXPECT_EQ(js["first_pos"].get<int64_t>(), T - 3);
  EXPECT_EQ(js["layers"].get<std::vector<int>>(), (std::vector<int>{0, 2, 1}));  // tiny has 3 layers

  test::RefArgs ra;
  ra.loras.emplace_back(a, 1.0f);
  ra.hidden_layers = {0, -1, 1};
  const auto ref = test::reference(m, prompt_ids, ra);

  const auto st = SafetensorsFile::open(file);
  EXPECT_EQ(st.tensors().size(), 3u);
  EXPECT_EQ(st.metadata().at("first_pos"), std::to_string(T - 3));
  EXPECT_EQ(nlohmann::json::parse(st.metadata().at("prompt_ids")).get<std::vector<int32_t>>(), prompt_ids);
  const std::pair<int, const char*> layers[] = {{0, "layer.0"}, {-1, "layer.2"}, {1, "layer.1"}};
  for (const auto& [req, name] : layers) {
    const SafetensorsTensor& t = st.get(name);
    EXPECT_EQ(t.dtype, STDType::F32);
    ASSERT_EQ(t.shape, (std::vector<int64_t>{3, 256}));
    const auto v = st.to_f32(name);
    const auto& rows = ref.hidden.at(req);
    const std::string key = std::to_string(req < 0 ? 3 + req : req);
    for (int64_t r = 0; r < 3; ++r) {
      test::expect_rows_near(v.data() + r * 256, rows[static_cast<size_t>(T - 3 + r)], 1e-4,
                             std::string(name) + " row " + std::to_string(r));
      const auto jrow = js["hidden"][key][static_cast<size_t>(r)].get<std::vector<float>>();
      EXPECT_TRUE(std::equal(jrow.begin(), jrow.end(), v.begin() + r * 256)) << "JSON and safetensors differ: " << name;
    }
  }
}

TEST(CliHidden, BadLayersAreErrors) {
  const std::string m = fixture("model --arch qwen3 --preset tiny --type f32 --seed 116");
  std::string err;
  EXPECT_NE(test::paw_status("hidden -t 1 --model " + m + " --prompt hi --layers 0,x", &err), 0);
  EXPECT_NE(err.find("invalid layer 'x'"), std::string::npos) << err;
  EXPECT_NE(test::paw_status("hidden -t 1 --model " + m + " --prompt hi --layers 7", &err), 0);
  EXPECT_NE(err.find("layer 7"), std::string::npos) << err;
  EXPECT_NE(test::paw_status("hidden -t 1 --model " + m + " --prompt hi --layers 2,-1", &err), 0);
  EXPECT_NE(err.find("already listed"), std::string::npos) << err;
}

}  // namespace
}  // namespace paw
