// HF config.json parsing on configs shaped like the published Qwen3-0.6B and GPT-2 files
// (values copied from the model cards' config.json), plus the error cases.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "paw/formats/hf_config.hpp"
#include "paw/util/error.hpp"
#include "common/test_env.hpp"

using nlohmann::json;
using paw::HFModelConfig;

namespace {

const char* kQwen3_06B = R"({
  "architectures": ["Qwen3ForCausalLM"],
  "attention_bias": false,
  "attention_dropout": 0.0,
  "bos_token_id": 151643,
  "eos_token_id": 151645,
  "head_dim": 128,
  "hidden_act": "silu",
  "hidden_size": 1024,
  "initializer_range": 0.02,
  "intermediate_size": 3072,
  "max_position_embeddings": 40960,
  "max_window_layers": 28,
  "model_type": "qwen3",
  "num_attention_heads": 16,
  "num_hidden_layers": 28,
  "num_key_value_heads": 8,
  "rms_norm_eps": 1e-06,
  "rope_scaling": null,
  "rope_theta": 1000000,
  "sliding_window": null,
  "tie_word_embeddings": true,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.51.0",
  "use_cache": true,
  "use_sliding_window": false,
  "vocab_size": 151936
})";

const char* kGpt2 = R"({
  "activation_function": "gelu_new",
  "architectures": ["GPT2LMHeadModel"],
  "attn_pdrop": 0.1,
  "bos_token_id": 50256,
  "embd_pdrop": 0.1,
  "eos_token_id": 50256,
  "initializer_range": 0.02,
  "layer_norm_epsilon": 1e-05,
  "model_type": "gpt2",
  "n_ctx": 1024,
  "n_embd": 768,
  "n_head": 12,
  "n_layer": 12,
  "n_positions": 1024,
  "resid_pdrop": 0.1,
  "summary_activation": null,
  "summary_first_dropout": 0.1,
  "summary_proj_to_labels": true,
  "summary_type": "cls_index",
  "summary_use_proj": true,
  "task_specific_params": {"text-generation": {"do_sample": true, "max_length": 50}},
  "vocab_size": 50257
})";

// The config with one field replaced (or removed when value is null and erase is set).
std::string with(const char* base, const std::string& key, const json& value) {
  json j = json::parse(base);
  j[key] = value;
  return j.dump();
}
std::string without(const char* base, const std::string& key) {
  json j = json::parse(base);
  j.erase(key);
  return j.dump();
}

paw::Error config_error(const std::string& text) {
  try {
    paw::parse_hf_config(text, "models/x/config.json");
  } catch (const paw::Error& e) {
    return e;
  }
  ADD_FAILURE() << "parse succeeded";
  return paw::Error("");
}

void expect_error(const std::string& text, const char* field, const char* fragment) {
  auto e = config_error(text);
  EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  EXPECT_NE(e.where().find("models/x/config.json"), std::string::npos) << e.where();
  if (field) {
    EXPECT_NE(e.where().find(std::string("field '") + field + "'"), std::string::npos) << e.where();
  }
}

}  // namespace

TEST(HFConfig, Qwen3_0_6B) {
  HFModelConfig c = paw::parse_hf_config(kQwen3_06B, "config.json");
  EXPECT_EQ(c.arch, "qwen3");
  EXPECT_EQ(c.architectures, std::vector<std::string>{"Qwen3ForCausalLM"});
  EXPECT_EQ(c.n_vocab, 151936);
  EXPECT_EQ(c.n_embd, 1024);
  EXPECT_EQ(c.n_ff, 3072);
  EXPECT_EQ(c.n_layer, 28);
  EXPECT_EQ(c.n_head, 16);
  EXPECT_EQ(c.n_head_kv, 8);
  EXPECT_EQ(c.head_dim, 128);  // not 1024 / 16
  EXPECT_EQ(c.n_ctx_train, 40960);
  EXPECT_DOUBLE_EQ(c.norm_eps, 1e-6);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1000000.0);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.activation, "silu");
  EXPECT_EQ(c.bos_token_id, 151643);
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{151645});
  EXPECT_EQ(c.torch_dtype, "bfloat16");
}

TEST(HFConfig, Gpt2) {
  HFModelConfig c = paw::parse_hf_config(kGpt2, "config.json");
  EXPECT_EQ(c.arch, "gpt2");
  EXPECT_EQ(c.n_vocab, 50257);
  EXPECT_EQ(c.n_embd, 768);
  EXPECT_EQ(c.n_layer, 12);
  EXPECT_EQ(c.n_head, 12);
  EXPECT_EQ(c.n_head_kv, 12);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.n_ff, 3072);  // n_inner absent -> 4 * 768
  EXPECT_EQ(c.n_ctx_train, 1024);
  EXPECT_DOUBLE_EQ(c.norm_eps, 1e-5);
  EXPECT_EQ(c.rope_theta, 0.0);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.activation, "gelu_new");
  EXPECT_EQ(c.bos_token_id, 50256);
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{50256});
  EXPECT_EQ(c.torch_dtype, "");
}

TEST(HFConfig, DefaultsFollowTransformers) {
  // Qwen3: no head_dim -> hidden/heads; no num_key_value_heads -> heads; optional fields default.
  json q = json::parse(kQwen3_06B);
  for (const char* k : {"head_dim", "num_key_value_heads", "rms_norm_eps", "rope_theta", "max_position_embeddings",
                        "tie_word_embeddings", "hidden_act", "bos_token_id", "eos_token_id", "architectures"})
    q.erase(k);
  auto c = paw::parse_hf_config(q.dump(), "q.json");
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.n_head_kv, 16);
  EXPECT_DOUBLE_EQ(c.norm_eps, 1e-6);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.n_ctx_train, 32768);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_FALSE(c.bos_token_id.has_value());
  EXPECT_TRUE(c.eos_token_ids.empty());

  // GPT-2: n_inner explicit, n_ctx as the only context field, gelu variants, list eos.
  json g = json::parse(kGpt2);
  g.erase("n_positions");
  g["n_ctx"] = 512;
  g["n_inner"] = 1000;
  g["activation_function"] = "gelu_pytorch_tanh";
  g["eos_token_id"] = {50256, 50255};
  g["bos_token_id"] = nullptr;
  g["tie_word_embeddings"] = false;
  auto d = paw::parse_hf_config(g.dump(), "g.json");
  EXPECT_EQ(d.n_ctx_train, 512);
  EXPECT_EQ(d.n_ff, 1000);
  EXPECT_EQ(d.activation, "gelu_pytorch_tanh");
  EXPECT_EQ(d.eos_token_ids, (std::vector<int64_t>{50256, 50255}));
  EXPECT_FALSE(d.bos_token_id.has_value());
  EXPECT_FALSE(d.tie_word_embeddings);
  EXPECT_EQ(paw::parse_hf_config(with(kGpt2, "activation_function", "gelu"), "g").activation, "gelu");
}

TEST(HFConfig, NewerSpellingsAccepted) {
  // transformers v5 writes "dtype" and "rope_parameters"; integral floats from some exporters.
  json q = json::parse(kQwen3_06B);
  q.erase("rope_theta");
  q.erase("torch_dtype");
  q["dtype"] = "float32";
  q["rope_parameters"] = {{"rope_theta", 500000.0}, {"rope_type", "default"}};
  q["hidden_size"] = 1024.0;
  q["rope_scaling"] = {{"rope_type", "default"}};
  auto c = paw::parse_hf_config(q.dump(), "q.json");
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.torch_dtype, "float32");
  EXPECT_EQ(c.n_embd, 1024);
  EXPECT_EQ(paw::parse_hf_config(with(kQwen3_06B, "architectures", {"Qwen3Model"}), "q").arch, "qwen3");
}

TEST(HFConfig, ErrorsNameFieldAndFile) {
  expect_error("{", nullptr, "config is not valid JSON");
  expect_error("[]", nullptr, "config is not a JSON object");
  expect_error(R"({"model_type": "gpt2", "n_embd": 1e999})", nullptr, "config is not valid JSON");
  expect_error(without(kQwen3_06B, "model_type"), "model_type", "missing required field");
  expect_error(with(kQwen3_06B, "model_type", "llama"), "model_type", "unsupported model_type 'llama'");
  EXPECT_NE(config_error(with(kQwen3_06B, "model_type", "llama")).hint().find("GGUF"), std::string::npos);
  expect_error(with(kQwen3_06B, "model_type", 3), "model_type", "expected a string");
  expect_error(with(kQwen3_06B, "architectures", {"Qwen3ForSequenceClassification"}), "architectures",
               "unsupported architectures [\"Qwen3ForSequenceClassification\"] for model_type 'qwen3'");
  expect_error(with(kGpt2, "architectures", {"Qwen3ForCausalLM"}), "architectures", "for model_type 'gpt2'");
  expect_error(with(kGpt2, "architectures", "GPT2LMHeadModel"), "architectures", "expected a list of class names");

  expect_error(without(kQwen3_06B, "hidden_size"), "hidden_size", "missing required field");
  expect_error(without(kQwen3_06B, "vocab_size"), "vocab_size", "missing required field");
  expect_error(without(kQwen3_06B, "intermediate_size"), "intermediate_size", "missing required field");
  expect_error(without(kQwen3_06B, "num_hidden_layers"), "num_hidden_layers", "missing required field");
  expect_error(with(kQwen3_06B, "num_attention_heads", "16"), "num_attention_heads", "expected an integer, got \"16\"");
  expect_error(with(kQwen3_06B, "num_attention_heads", 0), "num_attention_heads", "value 0 is out of range");
  expect_error(with(kQwen3_06B, "hidden_size", -1024), "hidden_size", "out of range");
  expect_error(with(kQwen3_06B, "hidden_size", 10.5), "hidden_size", "expected an integer, got 10.5");
  expect_error(with(kQwen3_06B, "vocab_size", 1e300), "vocab_size", "expected an integer");
  expect_error(with(kQwen3_06B, "num_key_value_heads", 5), "num_key_value_heads", "not a multiple of num_key_value_heads");
  expect_error(with(kQwen3_06B, "rms_norm_eps", 0), "rms_norm_eps", "must be positive");
  expect_error(with(kQwen3_06B, "rope_theta", "big"), "rope_theta", "expected a number");
  expect_error(with(kQwen3_06B, "tie_word_embeddings", 1), "tie_word_embeddings", "expected true or false");
  expect_error(with(kQwen3_06B, "hidden_act", "gelu"), "hidden_act", "activation 'gelu' is not supported for qwen3");
  expect_error(with(kQwen3_06B, "rope_scaling", {{"rope_type", "yarn"}, {"factor", 4.0}}), "rope_scaling",
               "RoPE scaling type 'yarn' is not supported");
  expect_error(with(kQwen3_06B, "use_sliding_window", true), "use_sliding_window", "sliding-window");
  expect_error(with(kQwen3_06B, "attention_bias", true), "attention_bias", "attention biases");
  expect_error(with(kQwen3_06B, "eos_token_id", -1), "eos_token_id", "out of range");
  expect_error(with(kQwen3_06B, "eos_token_id", {151645, "x"}), "eos_token_id", "expected an integer");
  {
    json q = json::parse(kQwen3_06B);
    q.erase("head_dim");
    q["num_attention_heads"] = 24;
    q["num_key_value_heads"] = 8;
    expect_error(q.dump(), "head_dim", "hidden_size is not divisible by num_attention_heads");
  }

  expect_error(without(kGpt2, "n_embd"), "n_embd", "missing required field");
  expect_error(without(kGpt2, "n_layer"), "n_layer", "missing required field");
  expect_error(without(without(kGpt2, "n_positions").c_str(), "n_ctx"), "n_positions", "missing required field");
  expect_error(with(kGpt2, "n_head", 7), "n_head", "n_embd (768) is not divisible by n_head (7)");
  expect_error(with(kGpt2, "activation_function", "relu"), "activation_function",
               "activation 'relu' is not supported for gpt2");
  expect_error(with(kGpt2, "layer_norm_epsilon", -1e-5), "layer_norm_epsilon", "must be positive");
  expect_error(with(kGpt2, "scale_attn_by_inverse_layer_idx", true), "scale_attn_by_inverse_layer_idx",
               "per-layer attention scaling");
  expect_error(with(kGpt2, "scale_attn_weights", false), "scale_attn_weights", "unscaled attention");
  expect_error(with(kGpt2, "n_inner", 0), "n_inner", "out of range");
}

TEST(HFConfig, LoadsFromFileOrFolder) {
  auto dir = paw::test::scratch_dir("hf-config");
  std::ofstream(dir + "/config.json") << kGpt2;
  EXPECT_EQ(paw::load_hf_config(dir).arch, "gpt2");
  EXPECT_EQ(paw::load_hf_config(dir + "/config.json").n_embd, 768);
  try {
    paw::load_hf_config(dir + "/missing.json");
    FAIL();
  } catch (const paw::Error& e) {
    EXPECT_NE(e.where().find("missing.json"), std::string::npos);
  }
  std::ofstream(dir + "/bad.json") << R"({"model_type": "gpt2", "n_embd": 768})";
  try {
    paw::load_hf_config(dir + "/bad.json");
    FAIL();
  } catch (const paw::Error& e) {
    EXPECT_EQ(e.where(), dir + "/bad.json: field 'vocab_size'");
  }
}
