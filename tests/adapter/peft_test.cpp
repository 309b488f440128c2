// LoraAdapter::load_peft against PEFT folders made by tests/reference/make_peft.py (torch
// rebuilds PEFT's LoRA layers and GPT-2's Conv1D; the safetensors bytes are packed by hand):
// names, exact A/B values, the LoRA delta and the merged output torch computed, the round
// trip PEFT → write_lora_gguf → load_gguf, and the unsupported-feature errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "adapter_test_util.hpp"
#include "paw/adapter/lora.hpp"
#include "paw/adapter/merge.hpp"
#include "paw/adapter/writer.hpp"
#include "paw/formats/safetensors.hpp"
#include "paw/util/mapped_file.hpp"
#include "paw/util/sha256.hpp"
#include "adapter/peft_names.hpp"
#include "common/test_env.hpp"

namespace paw {
namespace {

namespace fs = std::filesystem;
using test::expect_error;

struct Expected {
  std::string module, gguf;
  int64_t rank, n_in, n_out;
  double scaling;
  std::vector<float> a, b, x, delta, w_gguf, y;
};

struct Case {
  std::string dir, arch;
  double alpha;
  std::vector<Expected> modules;
};

class Peft : public ::testing::Test {
 protected:
  // The reference folders depend only on the script (fixed seeds), so they are made once per
  // build tree, keyed by the script's hash: ctest runs every test in its own process.
  // Made in a private directory and renamed into place, so parallel test processes agree.
  static void SetUpTestSuite() {
    const std::string script = test::source_dir() + "/tests/reference/make_peft.py";
    const std::string key = sha256_hex(read_file_to_string(script)).substr(0, 16);
    const fs::path final_dir = fs::path(test::binary_dir()) / "test-scratch" / ("peft-ref-" + key);
    root_ = new std::string(final_dir.string());
    if (fs::exists(final_dir / "done")) {
      status_ = 0;
      return;
    }
    const std::string tmp = test::scratch_dir("peft-ref-tmp");
    status_ = test::run_command(test::python() + " '" + script + "' '" + tmp + "'");
    if (status_ != 0) return;
    std::ofstream(tmp + "/done") << "ok\n";
    std::error_code ec;
    fs::rename(tmp, final_dir, ec);   // fails harmlessly if another process won the race
    if (ec) fs::remove_all(tmp, ec);
    if (!fs::exists(final_dir / "done")) status_ = -1;
  }
  static void TearDownTestSuite() {
    delete root_;
    root_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(status_, 0) << "make_peft.py failed (Debian python3 with torch needed)"; }

  static Case load_case(const std::string& name) {
    Case c;
    c.dir = *root_ + "/" + name;
    auto j = nlohmann::json::parse(read_file_to_string(c.dir + "/expected.json"));
    const std::string bin = read_file_to_string(c.dir + "/expected.bin");
    std::vector<float> all(bin.size() / 4);
    std::memcpy(all.data(), bin.data(), all.size() * 4);
    auto take = [&](const nlohmann::json& span) {
      const size_t off = span[0].get<size_t>(), n = span[1].get<size_t>();
      return std::vector<float>(all.begin() + off, all.begin() + off + n);
    };
    c.arch = j["arch"].get<std::string>();
    c.alpha = j["lora_alpha"].get<double>();
    for (const auto& m : j["modules"]) {
      c.modules.push_back({m["module"], m["gguf"], m["rank"], m["n_in"], m["n_out"], m["scaling"], take(m["a"]),
                           take(m["b"]), take(m["x"]), take(m["delta"]), take(m["w_gguf"]), take(m["y"])});
    }
    return c;
  }

  static std::string* root_;
  static int status_;
};
std::string* Peft::root_ = nullptr;
int Peft::status_ = -1;

std::vector<float> as_floats(const MatrixView& m) {
  EXPECT_EQ(m.type, DType::F32);
  const float* p = reinterpret_cast<const float*>(m.data);
  return std::vector<float>(p, p + m.rows * m.cols);
}

void expect_near_vec(const std::vector<double>& got, const std::vector<float>& want, double rel, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 1e-6;
  for (float v : want) scale = std::max(scale, std::fabs(double(v)));
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], rel * scale) << what << " [" << i << "]";
}

void check_case(const Case& c) {
  auto ad = LoraAdapter::load_peft(c.dir, c.arch);
  EXPECT_EQ(ad->arch(), c.arch);
  std::set<std::string> want_names, got_names;
  for (const auto& e : c.modules) want_names.insert(e.gguf);
  for (const auto& [name, p] : ad->pairs()) got_names.insert(name);
  EXPECT_EQ(got_names, want_names);
  for (const Expected& e : c.modules) {
    const LoraPair* p = ad->find(e.gguf);
    ASSERT_NE(p, nullptr) << e.gguf;
    EXPECT_EQ(p->rank(), e.rank) << e.gguf;
    EXPECT_EQ(p->a.cols, e.n_in) << e.gguf;
    EXPECT_EQ(p->b.rows, e.n_out) << e.gguf;
    // The torch tensors themselves (already rounded through the stored dtype).
    EXPECT_EQ(as_floats(p->a), e.a) << e.gguf;
    EXPECT_EQ(as_floats(p->b), e.b) << e.gguf;
    EXPECT_NEAR(ad->pair_factor(*p), e.scaling, 1e-6 * e.scaling) << e.gguf;

    // pair_factor · B·(A·x) against torch's lora_B(lora_A(x)) · scaling.
    const std::vector<float> a = as_floats(p->a), b = as_floats(p->b);
    std::vector<double> t(e.rank), delta(e.n_out);
    for (int64_t k = 0; k < e.rank; ++k)
      for (int64_t j = 0; j < e.n_in; ++j) t[k] += double(a[k * e.n_in + j]) * e.x[j];
    for (int64_t o = 0; o < e.n_out; ++o) {
      for (int64_t k = 0; k < e.rank; ++k) delta[o] += double(b[o * e.rank + k]) * t[k];
      delta[o] *= ad->pair_factor(*p);
    }
    expect_near_vec(delta, e.delta, 1e-5, e.gguf + " delta");

    // Merged GGUF-orientation weight times x against torch's base(x) + delta (for GPT-2 the
    // base is a Conv1D, so this also pins W_gguf = W_conv1dᵀ and A/B staying untransposed).
    const LoraPair* pp[] = {p};
    const float sc[] = {ad->pair_factor(*p)};
    std::vector<float> merged = merge_lora_into(e.w_gguf.data(), e.n_out, e.n_in, pp, sc);
    std::vector<double> y(e.n_out);
    for (int64_t o = 0; o < e.n_out; ++o)
      for (int64_t j = 0; j < e.n_in; ++j) y[o] += double(merged[o * e.n_in + j]) * e.x[j];
    expect_near_vec(y, e.y, 1e-5, e.gguf + " merged");
  }
}

TEST_F(Peft, Qwen3F32) { check_case(load_case("qwen3_f32")); }
TEST_F(Peft, Qwen3F16) { check_case(load_case("qwen3_f16")); }
TEST_F(Peft, Gpt2Bf16WithRankPattern) { check_case(load_case("gpt2_bf16")); }
TEST_F(Peft, Qwen3RsLora) { check_case(load_case("qwen3_rslora")); }

TEST_F(Peft, GptNamesAreLlamaCpps) {
  auto ad = LoraAdapter::load_peft(*root_ + "/gpt2_bf16", "gpt2");
  for (const char* n : {"blk.0.attn_qkv.weight", "blk.0.attn_output.weight", "blk.0.ffn_up.weight",
                        "blk.0.ffn_down.weight", "blk.1.attn_qkv.weight"})
    EXPECT_NE(ad->find(n), nullptr) << n;
  EXPECT_EQ(ad->find("blk.0.ffn_up.weight")->rank(), 16);   // rank_pattern
  EXPECT_EQ(ad->find("blk.0.ffn_down.weight")->rank(), 8);
}

TEST_F(Peft, RoundTripThroughGguf) {
  for (const std::string name : {"qwen3_f32", "gpt2_bf16"}) {
    auto peft = LoraAdapter::load_peft(*root_ + "/" + name, name.substr(0, name.find('_')));
    std::map<std::string, LoraWeights> pairs;
    for (const auto& [base, p] : peft->pairs())
      pairs[base] = LoraWeights{p.rank(), p.a.cols, p.b.rows, dequantize_matrix(p.a), dequantize_matrix(p.b)};
    // qwen3_f32 has rank 32 and n_in multiples of 32, so block types apply; gpt2's rank 8 does not.
    std::vector<DType> types = {DType::F32, DType::F16};
    if (name == "qwen3_f32") types.insert(types.end(), {DType::Q8_0, DType::Q4_0});
    for (DType t : types) {
      const std::string path = test::scratch_dir("peft_rt") + "/" + name + ".gguf";
      write_lora_gguf(path, peft->arch(), peft->alpha(), pairs, t);
      auto g = LoraAdapter::load_gguf(path);
      EXPECT_EQ(g->arch(), peft->arch());
      EXPECT_EQ(g->alpha(), peft->alpha());
      ASSERT_EQ(g->pairs().size(), peft->pairs().size());
      for (const auto& [base, p] : peft->pairs()) {
        const LoraPair* q = g->find(base);
        ASSERT_NE(q, nullptr) << base;
        EXPECT_EQ(g->pair_factor(*q), peft->pair_factor(p));
        for (auto [src, dst] : {std::pair{&p.a, &q->a}, std::pair{&p.b, &q->b}}) {
          ASSERT_EQ(dst->rows, src->rows);
          ASSERT_EQ(dst->cols, src->cols);
          const std::vector<float> want = dequantize_matrix(*src), got = dequantize_matrix(*dst);
          double amax = 0, err = 0;
          for (size_t i = 0; i < want.size(); ++i) {
            amax = std::max(amax, std::fabs(double(want[i])));
            err = std::max(err, std::fabs(double(got[i]) - want[i]));
          }
          // Worst case per type relative to the matrix's largest value (blocks only shrink it).
          const double tol = t == DType::F32 ? 0 : t == DType::F16 ? amax / 2048 : t == DType::Q8_0 ? amax / 127 : amax / 8 + amax * 1e-3;
          EXPECT_LE(err, tol) << name << " " << dtype_name(t) << " " << base;
        }
      }
    }
  }
}

TEST_F(Peft, LoadDispatchGuessesArchAndHashesBothFiles) {
  const std::string dir = *root_ + "/gpt2_bf16";
  auto ad = LoraAdapter::load(dir);   // base_model_name_or_path: openai-community/gpt2
  EXPECT_EQ(ad->arch(), "gpt2");
  EXPECT_EQ(LoraAdapter::load(dir + "/adapter_config.json")->arch(), "gpt2");
  EXPECT_EQ(LoraAdapter::load(*root_ + "/qwen3_f16")->arch(), "qwen3");
  // sha256(u64le |config| ‖ config ‖ u64le |weights| ‖ weights), checked with sha256sum.
  const std::string cfg = read_file_to_string(dir + "/adapter_config.json");
  const std::string st = read_file_to_string(dir + "/adapter_model.safetensors");
  const std::string cat = test::scratch_dir("peft_hash") + "/cat.bin";
  {
    std::ofstream f(cat, std::ios::binary);
    for (const std::string* s : {&cfg, &st}) {
      uint64_t n = s->size();
      f.write(reinterpret_cast<const char*>(&n), 8);   // little-endian host
      f.write(s->data(), s->size());
    }
  }
  std::string out;
  ASSERT_EQ(test::run_command("sha256sum '" + cat + "'", &out), 0);
  EXPECT_EQ(ad->sha256(), out.substr(0, 64));
}

TEST(PeftNames, Mapping) {
  using detail::peft_module_to_gguf;
  EXPECT_EQ(peft_module_to_gguf("model.layers.0.self_attn.q_proj", "qwen3"), "blk.0.attn_q.weight");
  EXPECT_EQ(peft_module_to_gguf("model.layers.27.self_attn.o_proj", "qwen3"), "blk.27.attn_output.weight");
  EXPECT_EQ(peft_module_to_gguf("layers.3.mlp.gate_proj", "qwen3"), "blk.3.ffn_gate.weight");
  EXPECT_EQ(peft_module_to_gguf("model.layers.1.mlp.down_proj", "qwen3"), "blk.1.ffn_down.weight");
  EXPECT_EQ(peft_module_to_gguf("lm_head", "qwen3"), "output.weight");
  EXPECT_EQ(peft_module_to_gguf("transformer.h.11.attn.c_attn", "gpt2"), "blk.11.attn_qkv.weight");
  EXPECT_EQ(peft_module_to_gguf("h.0.mlp.c_fc", "gpt2"), "blk.0.ffn_up.weight");
  EXPECT_EQ(peft_module_to_gguf("transformer.h.2.mlp.c_proj", "gpt2"), "blk.2.ffn_down.weight");
  EXPECT_EQ(peft_module_to_gguf("transformer.h.2.attn.c_proj", "gpt2"), "blk.2.attn_output.weight");
  EXPECT_FALSE(peft_module_to_gguf("model.layers.0.self_attn.q_norm", "qwen3"));
  EXPECT_FALSE(peft_module_to_gguf("model.layers.01.self_attn.q_proj", "qwen3"));
  EXPECT_FALSE(peft_module_to_gguf("model.layers.x.self_attn.q_proj", "qwen3"));
  EXPECT_FALSE(peft_module_to_gguf("transformer.h.0.attn.c_attn", "qwen3"));
  EXPECT_FALSE(peft_module_to_gguf("model.embed_tokens", "qwen3"));
}

// ---- unsupported features and malformed folders ----

nlohmann::json base_config() {
  return {{"peft_type", "LORA"}, {"r", 2}, {"lora_alpha", 4}, {"target_modules", {"q_proj", "v_proj"}},
          {"bias", "none"}, {"fan_in_fan_out", false}, {"base_model_name_or_path", "Qwen/Qwen3-0.6B"}};
}

// A qwen3 PEFT folder with a q_proj pair (r=2, in=3, out=4) plus `extra` tensors.
std::string make_folder(const nlohmann::json& cfg, const std::function<void(SafetensorsWriter&)>& extra = {},
                        bool with_q = true) {
  const std::string dir = test::scratch_dir("peft_err");
  std::ofstream(dir + "/adapter_config.json") << cfg.dump();
  SafetensorsWriter w;
  if (with_q) {
    const std::vector<float> a(6, 0.5f), b(8, 0.25f);
    w.add_f32("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", {2, 3}, a);
    w.add_f32("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", {4, 2}, b);
  }
  if (extra) extra(w);
  w.write(dir + "/adapter_model.safetensors");
  return dir;
}

TEST(PeftErrors, SmallFolderLoads) {
  const std::string dir = make_folder(base_config());
  auto ad = LoraAdapter::load_peft(dir, "qwen3");
  ASSERT_EQ(ad->pairs().size(), 1u);
  EXPECT_FLOAT_EQ(ad->pair_factor(*ad->find("blk.0.attn_q.weight")), 2.0f);
}

TEST(PeftErrors, UnsupportedConfigFeatures) {
  auto cfg = base_config();
  cfg["use_dora"] = true;
  expect_error([&] { LoraAdapter::load_peft(make_folder(cfg), "qwen3"); }, {"adapter_config.json", "use_dora", "DoRA"});
  cfg = base_config();
  cfg["modules_to_save"] = {"lm_head"};
  expect_error([&] { LoraAdapter::load_peft(make_folder(cfg), "qwen3"); }, {"modules_to_save"});
  cfg = base_config();
  cfg["bias"] = "all";
  expect_error([&] { LoraAdapter::load_peft(make_folder(cfg), "qwen3"); }, {"bias", "'all'"});
  cfg = base_config();
  cfg["alpha_pattern"] = {{"q_proj", 32}};
  expect_error([&] { LoraAdapter::load_peft(make_folder(cfg), "qwen3"); }, {"alpha_pattern", "q_proj"});
  cfg = base_config();
  cfg.erase("r");
  expect_error([&] { LoraAdapter::load_peft(make_folder(cfg), "qwen3"); }, {"adapter_config.json", "'r'"});
  cfg = base_config();
  cfg["lora_alpha"] = "16";
  expect_error([&] { LoraAdapter::load_peft(make_folder(cfg), "qwen3"); }, {"lora_alpha"});
  cfg = base_config();
  cfg["peft_type"] = "IA3";
  expect_error([&] { LoraAdapter::load_peft(make_folder(cfg), "qwen3"); }, {"peft_type", "IA3"});
  cfg = base_config();
  cfg["r"] = 8;   // the weights have rank 2 and there is no rank_pattern
  expect_error([&] { LoraAdapter::load_peft(make_folder(cfg), "qwen3"); }, {"q_proj.lora_A.weight", "rank 2", "r = 8"});
  const std::string bad_json = make_folder(base_config());
  std::ofstream(bad_json + "/adapter_config.json") << "{ not json";
  expect_error([&] { LoraAdapter::load_peft(bad_json, "qwen3"); }, {"adapter_config.json", "not valid JSON"});
}

TEST(PeftErrors, TensorProblems) {
  const std::vector<float> v(16, 1.0f);
  auto cfg = base_config();
  expect_error([&] {
    LoraAdapter::load_peft(make_folder(cfg, [&](SafetensorsWriter& w) {
      w.add_f32("base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight", {2, 3}, std::span(v).first(6));
    }), "qwen3");
  }, {"v_proj.lora_A.weight", "no matching lora_B"});
  expect_error([&] {
    LoraAdapter::load_peft(make_folder(cfg, [&](SafetensorsWriter& w) {
      w.add_f32("base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight", {2, 3}, std::span(v).first(6));
      w.add_f32("base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight", {4, 3}, std::span(v).first(12));
    }), "qwen3");
  }, {"v_proj.lora_B.weight", "rank mismatch"});
  expect_error([&] {
    LoraAdapter::load_peft(make_folder(cfg, [&](SafetensorsWriter& w) {
      w.add_f32("base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector", {4}, std::span(v).first(4));
    }), "qwen3");
  }, {"lora_magnitude_vector", "DoRA"});
  expect_error([&] {
    LoraAdapter::load_peft(make_folder(cfg, [&](SafetensorsWriter& w) {
      w.add_f32("base_model.model.lm_head.weight", {4, 4}, v);
    }), "qwen3");
  }, {"base_model.model.lm_head.weight", "unexpected tensor"});
  expect_error([&] {
    LoraAdapter::load_peft(make_folder(cfg, [&](SafetensorsWriter& w) {
      w.add_f32("base_model.model.model.embed_tokens.lora_embedding_A", {2, 8}, v);
    }), "qwen3");
  }, {"lora_embedding_A", "embedding"});
  auto cfg_all = base_config();
  cfg_all["target_modules"] = "all-linear";
  expect_error([&] {
    LoraAdapter::load_peft(make_folder(cfg_all, [&](SafetensorsWriter& w) {
      w.add_f32("base_model.model.model.layers.0.self_attn.q_norm.lora_A.weight", {2, 3}, std::span(v).first(6));
    }), "qwen3");
  }, {"q_norm", "no qwen3 linear"});
  expect_error([&] {
    LoraAdapter::load_peft(make_folder(cfg, [&](SafetensorsWriter& w) {
      w.add_f32("base_model.model.model.layers.0.mlp.up_proj.lora_A.weight", {2, 3}, std::span(v).first(6));
      w.add_f32("base_model.model.model.layers.0.mlp.up_proj.lora_B.weight", {4, 2}, std::span(v).first(8));
    }), "qwen3");
  }, {"up_proj", "not in target_modules"});
  expect_error([&] {
    LoraAdapter::load_peft(make_folder(cfg, [&](SafetensorsWriter& w) {
      w.add_f32("base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight", {6}, std::span(v).first(6));
      w.add_f32("base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight", {4, 2}, std::span(v).first(8));
    }), "qwen3");
  }, {"v_proj.lora_A.weight", "expected [r, in]"});
  // Integer tensors cannot hold LoRA weights.
  expect_error([&] {
    LoraAdapter::load_peft(make_folder(cfg, [&](SafetensorsWriter& w) {
      const std::vector<int32_t> iv(6, 1);
      w.add_tensor("base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight", STDType::I32, {2, 3}, iv.data(), 24);
      w.add_f32("base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight", {4, 2}, std::span(v).first(8));
    }), "qwen3");
  }, {"v_proj.lora_A.weight", "I32"});
}

TEST(PeftErrors, FolderProblems) {
  const std::string dir = make_folder(base_config());
  expect_error([&] { LoraAdapter::load_peft(dir, "llama"); }, {"llama"});
  fs::remove(dir + "/adapter_model.safetensors");
  std::ofstream(dir + "/adapter_model.bin") << "pickle";
  expect_error([&] { LoraAdapter::load_peft(dir, "qwen3"); }, {"adapter_model.safetensors", "safe_serialization"});
  auto cfg = base_config();
  cfg["base_model_name_or_path"] = "some/model";
  expect_error([&] { LoraAdapter::load(make_folder(cfg)); }, {"architecture", "qwen3 or gpt2"});
}

}  // namespace
}  // namespace paw
