#pragma once
// A Hugging Face checkpoint (config.json + model.safetensors) made from an F32 fixture GGUF:
// tensors renamed to the published transformers module names and laid out as transformers
// stores them (GPT-2's Conv1D weights transposed to [in, out]). Written independently of the
// native HF loader's mapping, so a loader test compares two separate descriptions.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "paw/formats/gguf.hpp"
#include "paw/formats/safetensors.hpp"
#include "common/test_env.hpp"

namespace paw::test {

// config.json of the fixture presets `qwen3 tiny-hd` and `gpt2 tiny`; VOCAB is replaced by the
// fixture's vocabulary size.
inline constexpr const char* kQwen3TinyHdConfig =
    R"({"model_type": "qwen3", "architectures": ["Qwen3ForCausalLM"], "vocab_size": VOCAB,
            "hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 2, "head_dim": 128, "max_position_embeddings": 512, "rms_norm_eps": 1e-6,
            "rope_theta": 1000000, "tie_word_embeddings": true, "hidden_act": "silu"})";
inline constexpr const char* kGpt2TinyConfig =
    R"({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": VOCAB, "n_embd": 256,
            "n_layer": 3, "n_head": 4, "n_positions": 128, "n_inner": 1024, "layer_norm_epsilon": 1e-5,
            "activation_function": "gelu_new"})";

// GGUF -> HF names, from the published transformers module names (DESIGN.md §8).
inline std::string hf_name(const std::string& arch, const std::string& g, bool* conv1d) {
  *conv1d = false;
  static const std::map<std::string, std::string> q_top = {{"token_embd.weight", "model.embed_tokens.weight"},
                                                          {"output_norm.weight", "model.norm.weight"},
                                                          {"output.weight", "lm_head.weight"}};
  static const std::map<std::string, std::string> q_blk = {
      {"attn_norm.weight", "input_layernorm.weight"},   {"attn_q.weight", "self_attn.q_proj.weight"},
      {"attn_k.weight", "self_attn.k_proj.weight"},     {"attn_v.weight", "self_attn.v_proj.weight"},
      {"attn_output.weight", "self_attn.o_proj.weight"}, {"attn_q_norm.weight", "self_attn.q_norm.weight"},
      {"attn_k_norm.weight", "self_attn.k_norm.weight"}, {"ffn_norm.weight", "post_attention_layernorm.weight"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},      {"ffn_up.weight", "mlp.up_proj.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"}};
  static const std::map<std::string, std::string> g_top = {{"token_embd.weight", "wte.weight"},
                                                          {"position_embd.weight", "wpe.weight"},
                                                          {"output_norm.weight", "ln_f.weight"},
                                                          {"output_norm.bias", "ln_f.bias"}};
  static const std::map<std::string, std::string> g_blk = {
      {"attn_norm.weight", "ln_1.weight"},        {"attn_norm.bias", "ln_1.bias"},
      {"attn_qkv.weight", "attn.c_attn.weight"},  {"attn_qkv.bias", "attn.c_attn.bias"},
      {"attn_output.weight", "attn.c_proj.weight"}, {"attn_output.bias", "attn.c_proj.bias"},
      {"ffn_norm.weight", "ln_2.weight"},         {"ffn_norm.bias", "ln_2.bias"},
      {"ffn_up.weight", "mlp.c_fc.weight"},       {"ffn_up.bias", "mlp.c_fc.bias"},
      {"ffn_down.weight", "mlp.c_proj.weight"},   {"ffn_down.bias", "mlp.c_proj.bias"}};
  const bool qwen = arch == "qwen3";
  if (g.rfind("blk.", 0) == 0) {
    const size_t dot = g.find('.', 4);
    const std::string layer = g.substr(4, dot - 4), rest = g.substr(dot + 1);
    if (qwen) return "model.layers." + layer + "." + q_blk.at(rest);
    *conv1d = rest.find(".weight") != std::string::npos && rest.find("norm") == std::string::npos;
    return "h." + layer + "." + g_blk.at(rest);
  }
  return qwen ? q_top.at(g) : g_top.at(g);
}

inline std::string write_hf(const std::string& gguf_path, const std::string& arch, const std::string& config) {
  const GGUFFile f = GGUFFile::open(gguf_path);
  SafetensorsWriter w;
  for (const auto& t : f.tensors()) {
    EXPECT_EQ(t.type, DType::F32) << t.name;
    const float* v = reinterpret_cast<const float*>(t.data);
    bool conv1d = false;
    const std::string name = hf_name(arch, t.name, &conv1d);
    if (t.ne.size() == 1) {
      w.add_f32(name, {t.ne[0]}, std::span<const float>(v, t.ne[0]));
    } else if (!conv1d) {  // torch Linear / Embedding: [out, in] == GGUF rows
      w.add_f32(name, {t.ne[1], t.ne[0]}, std::span<const float>(v, t.ne[0] * t.ne[1]));
    } else {  // GPT-2 Conv1D stores [in, out]
      const int64_t n_in = t.ne[0], n_out = t.ne[1];
      std::vector<float> tr(n_in * n_out);
      for (int64_t o = 0; o < n_out; ++o)
        for (int64_t i = 0; i < n_in; ++i) tr[i * n_out + o] = v[o * n_in + i];
      w.add_f32(name, {n_in, n_out}, tr);
    }
  }
  const std::string dir = test::scratch_dir("hf-" + arch);
  w.write(dir + "/model.safetensors");
  std::ofstream(dir + "/config.json") << config;
  return dir;
}

}  // namespace paw::test
