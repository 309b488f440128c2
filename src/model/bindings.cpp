// The binding tables: one row per tensor of each architecture (see paw/model/weights.hpp).
#include <array>
#include <string>

#include "paw/model/weights.hpp"

namespace paw {
namespace {

using L = LayerWeights;
using M = ModelWeights;
using K = TensorKind;

constexpr TensorSpec model_t(std::string_view g, std::string_view hf, Dim ne0, Dim ne1, bool req, K kind,
                             WeightRef M::*f, bool transposed = false) {
  return TensorSpec{g, hf, ne0, ne1, req, kind, transposed, nullptr, f};
}
constexpr TensorSpec layer_t(std::string_view g, std::string_view hf, Dim ne0, Dim ne1, bool req, K kind,
                             WeightRef L::*f, bool transposed = false) {
  return TensorSpec{g, hf, ne0, ne1, req, kind, transposed, f, nullptr};
}

// llama.cpp's qwen3 tensors; HF names from Qwen3ForCausalLM.
const std::array kQwen3 = {
    model_t("token_embd.weight", "model.embed_tokens.weight", Dim::Embd, Dim::Vocab, true, K::Embedding, &M::token_embd),
    model_t("output_norm.weight", "model.norm.weight", Dim::Embd, Dim::None, true, K::Vector, &M::output_norm),
    model_t("output.weight", "lm_head.weight", Dim::Embd, Dim::Vocab, false, K::Linear, &M::output),
    layer_t("blk.{i}.attn_norm.weight", "model.layers.{i}.input_layernorm.weight", Dim::Embd, Dim::None, true, K::Vector, &L::attn_norm),
    layer_t("blk.{i}.attn_q.weight", "model.layers.{i}.self_attn.q_proj.weight", Dim::Embd, Dim::QDim, true, K::Linear, &L::attn_q),
    layer_t("blk.{i}.attn_k.weight", "model.layers.{i}.self_attn.k_proj.weight", Dim::Embd, Dim::KDim, true, K::Linear, &L::attn_k),
    layer_t("blk.{i}.attn_v.weight", "model.layers.{i}.self_attn.v_proj.weight", Dim::Embd, Dim::VDim, true, K::Linear, &L::attn_v),
    layer_t("blk.{i}.attn_q_norm.weight", "model.layers.{i}.self_attn.q_norm.weight", Dim::HeadK, Dim::None, true, K::Vector, &L::attn_q_norm),
    layer_t("blk.{i}.attn_k_norm.weight", "model.layers.{i}.self_attn.k_norm.weight", Dim::HeadK, Dim::None, true, K::Vector, &L::attn_k_norm),
    layer_t("blk.{i}.attn_output.weight", "model.layers.{i}.self_attn.o_proj.weight", Dim::ODim, Dim::Embd, true, K::Linear, &L::attn_output),
    layer_t("blk.{i}.ffn_norm.weight", "model.layers.{i}.post_attention_layernorm.weight", Dim::Embd, Dim::None, true, K::Vector, &L::ffn_norm),
    layer_t("blk.{i}.ffn_gate.weight", "model.layers.{i}.mlp.gate_proj.weight", Dim::Embd, Dim::Ff, true, K::Linear, &L::ffn_gate),
    layer_t("blk.{i}.ffn_up.weight", "model.layers.{i}.mlp.up_proj.weight", Dim::Embd, Dim::Ff, true, K::Linear, &L::ffn_up),
    layer_t("blk.{i}.ffn_down.weight", "model.layers.{i}.mlp.down_proj.weight", Dim::Ff, Dim::Embd, true, K::Linear, &L::ffn_down),
};

// llama.cpp's llama tensors: Qwen3's without the per-head norms (GGUF only: Hugging Face
// Llama folders are refused by parse_hf_config, their Q/K rows are not permuted for the
// interleaved RoPE a llama GGUF file implies).
const std::array kLlama = {
    model_t("token_embd.weight", "model.embed_tokens.weight", Dim::Embd, Dim::Vocab, true, K::Embedding, &M::token_embd),
    model_t("output_norm.weight", "model.norm.weight", Dim::Embd, Dim::None, true, K::Vector, &M::output_norm),
    model_t("output.weight", "lm_head.weight", Dim::Embd, Dim::Vocab, false, K::Linear, &M::output),
    layer_t("blk.{i}.attn_norm.weight", "model.layers.{i}.input_layernorm.weight", Dim::Embd, Dim::None, true, K::Vector, &L::attn_norm),
    layer_t("blk.{i}.attn_q.weight", "model.layers.{i}.self_attn.q_proj.weight", Dim::Embd, Dim::QDim, true, K::Linear, &L::attn_q),
    layer_t("blk.{i}.attn_k.weight", "model.layers.{i}.self_attn.k_proj.weight", Dim::Embd, Dim::KDim, true, K::Linear, &L::attn_k),
    layer_t("blk.{i}.attn_v.weight", "model.layers.{i}.self_attn.v_proj.weight", Dim::Embd, Dim::VDim, true, K::Linear, &L::attn_v),
    layer_t("blk.{i}.attn_output.weight", "model.layers.{i}.self_attn.o_proj.weight", Dim::ODim, Dim::Embd, true, K::Linear, &L::attn_output),
    layer_t("blk.{i}.ffn_norm.weight", "model.layers.{i}.post_attention_layernorm.weight", Dim::Embd, Dim::None, true, K::Vector, &L::ffn_norm),
    layer_t("blk.{i}.ffn_gate.weight", "model.layers.{i}.mlp.gate_proj.weight", Dim::Embd, Dim::Ff, true, K::Linear, &L::ffn_gate),
    layer_t("blk.{i}.ffn_up.weight", "model.layers.{i}.mlp.up_proj.weight", Dim::Embd, Dim::Ff, true, K::Linear, &L::ffn_up),
    layer_t("blk.{i}.ffn_down.weight", "model.layers.{i}.mlp.down_proj.weight", Dim::Ff, Dim::Embd, true, K::Linear, &L::ffn_down),
};

// llama.cpp's gpt2 tensors; HF names from GPT2LMHeadModel (Conv1D weights are [in, out]).
const std::array kGpt2 = {
    model_t("token_embd.weight", "wte.weight", Dim::Embd, Dim::Vocab, true, K::Embedding, &M::token_embd),
    model_t("position_embd.weight", "wpe.weight", Dim::Embd, Dim::Ctx, true, K::Embedding, &M::position_embd),
    model_t("output_norm.weight", "ln_f.weight", Dim::Embd, Dim::None, true, K::Vector, &M::output_norm),
    model_t("output_norm.bias", "ln_f.bias", Dim::Embd, Dim::None, true, K::Vector, &M::output_norm_b),
    model_t("output.weight", "lm_head.weight", Dim::Embd, Dim::Vocab, false, K::Linear, &M::output),
    layer_t("blk.{i}.attn_norm.weight", "h.{i}.ln_1.weight", Dim::Embd, Dim::None, true, K::Vector, &L::attn_norm),
    layer_t("blk.{i}.attn_norm.bias", "h.{i}.ln_1.bias", Dim::Embd, Dim::None, true, K::Vector, &L::attn_norm_b),
    layer_t("blk.{i}.attn_qkv.weight", "h.{i}.attn.c_attn.weight", Dim::Embd, Dim::QKVDim, true, K::Linear, &L::attn_qkv, true),
    layer_t("blk.{i}.attn_qkv.bias", "h.{i}.attn.c_attn.bias", Dim::QKVDim, Dim::None, true, K::Vector, &L::attn_qkv_b),
    layer_t("blk.{i}.attn_output.weight", "h.{i}.attn.c_proj.weight", Dim::ODim, Dim::Embd, true, K::Linear, &L::attn_output, true),
    layer_t("blk.{i}.attn_output.bias", "h.{i}.attn.c_proj.bias", Dim::Embd, Dim::None, true, K::Vector, &L::attn_output_b),
    layer_t("blk.{i}.ffn_norm.weight", "h.{i}.ln_2.weight", Dim::Embd, Dim::None, true, K::Vector, &L::ffn_norm),
    layer_t("blk.{i}.ffn_norm.bias", "h.{i}.ln_2.bias", Dim::Embd, Dim::None, true, K::Vector, &L::ffn_norm_b),
    layer_t("blk.{i}.ffn_up.weight", "h.{i}.mlp.c_fc.weight", Dim::Embd, Dim::Ff, true, K::Linear, &L::ffn_up, true),
    layer_t("blk.{i}.ffn_up.bias", "h.{i}.mlp.c_fc.bias", Dim::Ff, Dim::None, true, K::Vector, &L::ffn_up_b),
    layer_t("blk.{i}.ffn_down.weight", "h.{i}.mlp.c_proj.weight", Dim::Ff, Dim::Embd, true, K::Linear, &L::ffn_down, true),
    layer_t("blk.{i}.ffn_down.bias", "h.{i}.mlp.c_proj.bias", Dim::Embd, Dim::None, true, K::Vector, &L::ffn_down_b),
};

}  // namespace

std::span<const TensorSpec> tensor_specs(Arch a) {
  switch (a) {
    case Arch::Qwen3: return kQwen3;
    case Arch::Llama: return kLlama;
    case Arch::Gpt2: return kGpt2;
  }
  return kGpt2;
}

int64_t dim_value(Dim d, const HParams& hp) {
  switch (d) {
    case Dim::None: return 1;
    case Dim::Embd: return hp.n_embd;
    case Dim::Vocab: return hp.n_vocab;
    case Dim::Ff: return hp.n_ff;
    case Dim::Ctx: return hp.n_ctx_train;
    case Dim::HeadK: return hp.head_dim_k;
    case Dim::QDim: return hp.q_dim();
    case Dim::KDim: return hp.k_dim();
    case Dim::VDim: return hp.v_dim();
    case Dim::ODim: return hp.o_dim();
    case Dim::QKVDim: return hp.q_dim() + hp.k_dim() + hp.v_dim();
  }
  return 0;
}

std::string_view dim_name(Dim d) {
  switch (d) {
    case Dim::None: return "1";
    case Dim::Embd: return "n_embd";
    case Dim::Vocab: return "n_vocab";
    case Dim::Ff: return "n_ff";
    case Dim::Ctx: return "n_ctx_train";
    case Dim::HeadK: return "head_dim";
    case Dim::QDim: return "n_head*head_dim";
    case Dim::KDim: return "n_head_kv*head_dim";
    case Dim::VDim: return "n_head_kv*head_dim_v";
    case Dim::ODim: return "n_head*head_dim_v";
    case Dim::QKVDim: return "3*n_embd";
  }
  return "?";
}

std::string spec_name(std::string_view pattern, int64_t layer) {
  std::string s(pattern);
  const auto at = s.find("{i}");
  if (at != std::string::npos) s.replace(at, 3, std::to_string(layer));
  return s;
}

std::string expected_shape_string(const TensorSpec& s, const HParams& hp) {
  std::string out = "[";
  out += std::to_string(dim_value(s.ne0, hp));
  if (s.ne1 != Dim::None) out += ", " + std::to_string(dim_value(s.ne1, hp));
  out += "] = [";
  out += dim_name(s.ne0);
  if (s.ne1 != Dim::None) {
    out += ", ";
    out += dim_name(s.ne1);
  }
  out += "]";
  return out;
}

}  // namespace paw
