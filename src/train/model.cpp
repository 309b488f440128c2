// libtorch Qwen3 / GPT-2 (see paw/train/model.hpp): module tree named like the GGUF tensors,
// forward mirroring src/model/forward_qwen3.cpp and forward_gpt2.cpp.
#include "paw/train/model.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "paw/train/mixed_precision.hpp"
#include "paw/util/error.hpp"

namespace paw::train {

using torch::Tensor;

ParamHolderImpl::ParamHolderImpl(std::vector<int64_t> weight_shape, bool with_bias, int64_t bias_size) {
  weight = register_parameter("weight", torch::empty(weight_shape));
  if (with_bias) bias = register_parameter("bias", torch::zeros({bias_size}));
}

// One transformer block. Only the holders of the block's architecture are registered, so the
// parameter list equals the GGUF tensor list.
struct BlockImpl : torch::nn::Module {
  ParamHolder attn_norm{nullptr}, attn_q{nullptr}, attn_k{nullptr}, attn_v{nullptr}, attn_q_norm{nullptr},
      attn_k_norm{nullptr}, attn_qkv{nullptr}, attn_output{nullptr}, ffn_norm{nullptr}, ffn_gate{nullptr},
      ffn_up{nullptr}, ffn_down{nullptr};
  // GGUF base names of the linears (LoRA keys), built once.
  std::string n_q, n_k, n_v, n_qkv, n_o, n_gate, n_up, n_down;

  BlockImpl(const HParams& hp, int64_t l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    n_q = p + "attn_q.weight";
    n_k = p + "attn_k.weight";
    n_v = p + "attn_v.weight";
    n_qkv = p + "attn_qkv.weight";
    n_o = p + "attn_output.weight";
    n_gate = p + "ffn_gate.weight";
    n_up = p + "ffn_up.weight";
    n_down = p + "ffn_down.weight";
    const int64_t E = hp.n_embd, F = hp.n_ff;
    auto holder = [&](const char* name, std::vector<int64_t> shape, bool bias = false, int64_t bias_n = 0) {
      return register_module(name, ParamHolder(std::move(shape), bias, bias_n));
    };
    if (hp.arch == Arch::Qwen3) {
      attn_norm = holder("attn_norm", {E});
      attn_q = holder("attn_q", {hp.q_dim(), E});          // [n_head*head_dim, n_embd]
      attn_k = holder("attn_k", {hp.k_dim(), E});          // [n_head_kv*head_dim, n_embd]
      attn_v = holder("attn_v", {hp.v_dim(), E});          // [n_head_kv*head_dim_v, n_embd]
      attn_q_norm = holder("attn_q_norm", {hp.head_dim_k});
      attn_k_norm = holder("attn_k_norm", {hp.head_dim_k});
      attn_output = holder("attn_output", {E, hp.o_dim()});  // [n_embd, n_head*head_dim_v]
      ffn_norm = holder("ffn_norm", {E});
      ffn_gate = holder("ffn_gate", {F, E});
      ffn_up = holder("ffn_up", {F, E});
      ffn_down = holder("ffn_down", {E, F});
    } else {
      const int64_t qkv = hp.q_dim() + hp.k_dim() + hp.v_dim();
      attn_norm = holder("attn_norm", {E}, true, E);
      attn_qkv = holder("attn_qkv", {qkv, E}, true, qkv);  // rows Q, K, V
      attn_output = holder("attn_output", {E, hp.o_dim()}, true, E);
      ffn_norm = holder("ffn_norm", {E}, true, E);
      ffn_up = holder("ffn_up", {F, E}, true, F);
      ffn_down = holder("ffn_down", {E, F}, true, E);
    }
  }
};

namespace {

// x * rsqrt(mean(x^2) + eps) * w over the last dimension, in float even when x is a bfloat16
// product under mixed precision (a bf16 mean of squares loses too many digits).
Tensor rms_norm(const Tensor& x_in, const Tensor& w, double eps) {
  const Tensor x = at_least_float(x_in);
  return x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps) * w;
}

// NeoX RoPE on [B, T, H, D]: rotates pairs (i, i + D/2). cos/sin: [B, T, 1, D/2].
Tensor rope(const Tensor& x, const Tensor& cos, const Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  const Tensor x0 = x.narrow(-1, 0, half), x1 = x.narrow(-1, half, half);
  return torch::cat({x0 * cos - x1 * sin, x0 * sin + x1 * cos}, -1);
}

// Causal attention. q [B, T, H, Dk], k [B, T, Hkv, Dk], v [B, T, Hkv, Dv]; mask broadcastable
// to [B, H, T, T] (true = may attend). Returns [B, T, H * Dv].
Tensor attention(const Tensor& q, Tensor k, Tensor v, const Tensor& mask, int64_t n_head, int64_t n_head_kv) {
  const int64_t B = q.size(0), T = q.size(1), Dk = q.size(3), Dv = v.size(3);
  const int64_t group = n_head / n_head_kv;
  if (group > 1) {  // query head h reads kv head h / group (the native and llama.cpp mapping)
    k = k.repeat_interleave(group, /*dim=*/2);
    v = v.repeat_interleave(group, /*dim=*/2);
  }
  const Tensor qh = q.transpose(1, 2), kh = k.transpose(1, 2), vh = v.transpose(1, 2);  // [B, H, T, D]
  // The 1/sqrt(Dk) scale goes on q [B, H, T, Dk], not on the T/Dk-times larger scores. Under
  // mixed precision the scores stay bfloat16: libtorch's softmax accumulates in float
  // internally, and a float copy of [B, H, T, T] would cost more than the products (measured
  // 1.6x slower steps at T = 512).
  Tensor scores = torch::matmul(qh * (1.0 / std::sqrt(static_cast<double>(Dk))), kh.transpose(-2, -1));
  scores = scores.masked_fill(mask.logical_not(), -std::numeric_limits<double>::infinity());
  const Tensor p = torch::softmax(scores, -1);
  return torch::matmul(p, vh).transpose(1, 2).reshape({B, T, n_head * Dv});
}

}  // namespace

void validate_config(const ModelConfig& c, const std::string& where) {
  if (c.hp.arch != Arch::Qwen3 && c.hp.arch != Arch::Gpt2)
    throw Error("cannot train a " + std::string(arch_name(c.hp.arch)) + " model", where,
                "paw train builds qwen3 and gpt2 models; the native runtime runs llama files");
  validate_hparams(c.hp, where);
}

int64_t count_params(const ModelConfig& c) {
  const HParams& hp = c.hp;
  const int64_t E = hp.n_embd, F = hp.n_ff;
  int64_t n = hp.n_vocab * E + E;  // token_embd, output_norm
  if (!c.tied) n += hp.n_vocab * E;
  int64_t per_layer = 0;
  if (hp.arch == Arch::Qwen3) {
    per_layer = 2 * E + (hp.q_dim() + hp.k_dim() + hp.v_dim()) * E + 2 * hp.head_dim_k + hp.o_dim() * E + 3 * E * F;
  } else {
    const int64_t qkv = hp.q_dim() + hp.k_dim() + hp.v_dim();
    n += hp.n_ctx_train * E + E;  // position_embd, output_norm.bias
    per_layer = 4 * E + qkv * E + qkv + hp.o_dim() * E + E + 2 * E * F + F + E;
  }
  return n + per_layer * hp.n_layer;
}

std::string target_tensor(const std::string& s) {
  if (s == "q") return "attn_q";
  if (s == "k") return "attn_k";
  if (s == "v") return "attn_v";
  if (s == "o") return "attn_output";
  if (s == "qkv") return "attn_qkv";
  if (s == "gate") return "ffn_gate";
  if (s == "up") return "ffn_up";
  if (s == "down") return "ffn_down";
  if (s == "output") return "output";
  throw Error("unknown LoRA target module '" + s + "'", "lora targets",
              "use q, k, v, o, gate, up, down (qwen3), qkv, o, up, down (gpt2) or output");
}

TorchModelImpl::TorchModelImpl(const ModelConfig& cfg) : cfg_(cfg) {
  validate_config(cfg_, "model config");
  const HParams& hp = cfg_.hp;
  const int64_t E = hp.n_embd;
  token_embd_ = register_module("token_embd", ParamHolder(std::vector<int64_t>{hp.n_vocab, E}, false));
  if (hp.arch == Arch::Gpt2)
    position_embd_ = register_module("position_embd", ParamHolder(std::vector<int64_t>{hp.n_ctx_train, E}, false));
  output_norm_ = register_module("output_norm", ParamHolder(std::vector<int64_t>{E}, hp.arch == Arch::Gpt2, E));
  if (!cfg_.tied) output_ = register_module("output", ParamHolder(std::vector<int64_t>{hp.n_vocab, E}, false));
  // "blk" is a plain container whose children are named "0", "1", ... -> "blk.N.<tensor>".
  auto blk = register_module("blk", std::make_shared<torch::nn::Module>());
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    auto b = std::make_shared<BlockImpl>(hp, l);
    blk->register_module(std::to_string(l), b);
    blocks_.push_back(b);
  }
}

Tensor TorchModelImpl::linear(const Tensor& x, const ParamHolderImpl& p, const std::string& name,
                              const LoraSet* lora) const {
  Tensor y = torch::matmul(x, p.weight.t());  // [B, T, n_out]
  if (lora) {
    if (auto it = lora->pairs.find(name); it != lora->pairs.end()) {
      const Tensor& a = it->second.a;
      const Tensor& b = it->second.b;
      const double scale = lora->scale_for(b.size(-1));
      if (a.dim() == 2)
        y = y + scale * torch::matmul(torch::matmul(x, a.t()), b.t());
      else  // per-row adapters: [B, T, n_in] x [B, n_in, r] -> [B, T, r] x [B, r, n_out]
        y = y + scale * torch::bmm(torch::bmm(x, a.transpose(1, 2)), b.transpose(1, 2));
    }
  }
  if (p.bias.defined()) y = y + p.bias;  // LoRA lands before the bias, as in the native forward
  return y;
}

Tensor TorchModelImpl::qwen3_block(size_t l, Tensor x, const Tensor& cos, const Tensor& sin, const Tensor& mask,
                                   const LoraSet* lora) const {
  const HParams& hp = cfg_.hp;
  const BlockImpl& w = *blocks_[l];
  const int64_t B = x.size(0), T = x.size(1);
  const double eps = hp.norm_eps;
  Tensor h = rms_norm(x, w.attn_norm->weight, eps);
  Tensor q = linear(h, *w.attn_q, w.n_q, lora).view({B, T, hp.n_head, hp.head_dim_k});
  Tensor k = linear(h, *w.attn_k, w.n_k, lora).view({B, T, hp.n_head_kv, hp.head_dim_k});
  Tensor v = linear(h, *w.attn_v, w.n_v, lora).view({B, T, hp.n_head_kv, hp.head_dim_v});
  q = rope(rms_norm(q, w.attn_q_norm->weight, eps), cos, sin);  // Q/K norm before RoPE
  k = rope(rms_norm(k, w.attn_k_norm->weight, eps), cos, sin);
  const Tensor a = attention(q, k, v, mask, hp.n_head, hp.n_head_kv);  // [B, T, n_head*head_dim_v]
  x = x + linear(a, *w.attn_output, w.n_o, lora);
  h = rms_norm(x, w.ffn_norm->weight, eps);
  const Tensor g = linear(h, *w.ffn_gate, w.n_gate, lora);  // [B, T, n_ff]
  const Tensor u = linear(h, *w.ffn_up, w.n_up, lora);
  return x + linear(torch::silu(g) * u, *w.ffn_down, w.n_down, lora);
}

Tensor TorchModelImpl::gpt2_block(size_t l, Tensor x, const Tensor& mask, const LoraSet* lora) const {
  const HParams& hp = cfg_.hp;
  const BlockImpl& w = *blocks_[l];
  const int64_t B = x.size(0), T = x.size(1), E = hp.n_embd;
  const double eps = hp.norm_eps;
  Tensor h = torch::layer_norm(x, {E}, w.attn_norm->weight, w.attn_norm->bias, eps);
  const Tensor qkv = linear(h, *w.attn_qkv, w.n_qkv, lora);  // [B, T, q_dim + k_dim + v_dim]
  const Tensor q = qkv.narrow(-1, 0, hp.q_dim()).view({B, T, hp.n_head, hp.head_dim_k});
  const Tensor k = qkv.narrow(-1, hp.q_dim(), hp.k_dim()).view({B, T, hp.n_head_kv, hp.head_dim_k});
  const Tensor v = qkv.narrow(-1, hp.q_dim() + hp.k_dim(), hp.v_dim()).view({B, T, hp.n_head_kv, hp.head_dim_v});
  const Tensor a = attention(q, k, v, mask, hp.n_head, hp.n_head_kv);
  x = x + linear(a, *w.attn_output, w.n_o, lora);
  h = torch::layer_norm(x, {E}, w.ffn_norm->weight, w.ffn_norm->bias, eps);
  const Tensor u = torch::gelu(linear(h, *w.ffn_up, w.n_up, lora), "tanh");  // [B, T, n_ff]
  return x + linear(u, *w.ffn_down, w.n_down, lora);
}

Tensor TorchModelImpl::trunk(const Tensor& tokens, const LoraSet* lora, const Tensor& segments, int64_t n_blocks,
                             const std::vector<int64_t>* tap_layers, std::vector<Tensor>* taps) {
  const HParams& hp = cfg_.hp;
  if (tokens.dim() != 2 || tokens.scalar_type() != torch::kLong)
    throw Error("tokens must be an int64 tensor [batch, time]", "TorchModel::forward");
  const int64_t B = tokens.size(0), T = tokens.size(1);
  if (B == 0 || T == 0) throw Error("empty batch", "TorchModel::forward");
  const int64_t lo = tokens.min().item<int64_t>(), hi = tokens.max().item<int64_t>();
  if (lo < 0 || hi >= hp.n_vocab)
    throw Error("token id " + std::to_string(lo < 0 ? lo : hi) + " is outside the vocabulary [0, " +
                    std::to_string(hp.n_vocab) + ")",
                "TorchModel::forward");
  if (lora) {
    std::set<std::string> names;
    for (const LinearSpec& s : linears()) names.insert(s.name);
    for (const auto& [name, t] : lora->pairs)
      if (!names.count(name))
        throw Error("LoRA pair targets '" + name + "', which is not a linear of this model", "TorchModel::forward",
                    "LoRA keys are GGUF base names such as blk.0.attn_q.weight");
  }
  const auto dev = tokens.device();
  const auto dtype = token_embd_->weight.scalar_type();

  // Positions and the attention mask: plain causal, or causal within packed segments.
  Tensor pos, mask;
  const Tensor idx = torch::arange(T, torch::TensorOptions().dtype(torch::kLong).device(dev));
  const Tensor causal = torch::ones({T, T}, torch::TensorOptions().dtype(torch::kBool).device(dev)).tril();
  if (segments.defined()) {
    if (segments.sizes() != tokens.sizes())
      throw Error("segments must have the shape of tokens", "TorchModel::forward");
    const Tensor seg = segments.to(torch::kLong);
    const Tensor starts = torch::cat({torch::ones({B, 1}, seg.options().dtype(torch::kBool)),
                                      seg.narrow(1, 1, T - 1) != seg.narrow(1, 0, T - 1)},
                                     1);  // [B, T]: a segment begins here
    const Tensor start_idx = std::get<0>(torch::where(starts, idx.expand({B, T}), torch::zeros_like(seg)).cummax(1));
    pos = idx.expand({B, T}) - start_idx;  // [B, T]
    mask = (causal.unsqueeze(0) & (seg.unsqueeze(2) == seg.unsqueeze(1))).unsqueeze(1);  // [B, 1, T, T]
  } else {
    pos = idx.unsqueeze(0).expand({B, T});
    mask = causal;  // [T, T]
  }

  auto tap = [&](int64_t l, const Tensor& x) {
    if (!tap_layers) return;
    for (size_t i = 0; i < tap_layers->size(); ++i)
      if ((*tap_layers)[i] == l) (*taps)[i] = x;
  };
  Tensor x = torch::embedding(token_embd_->weight, tokens);  // [B, T, n_embd]
  if (hp.arch == Arch::Gpt2) {
    if (pos.max().item<int64_t>() >= hp.n_ctx_train)
      throw Error("position " + std::to_string(pos.max().item<int64_t>()) + " is past GPT-2's position table (" +
                      std::to_string(hp.n_ctx_train) + " rows)",
                  "TorchModel::forward", "use shorter sequences");
    x = x + torch::embedding(position_embd_->weight, pos);
    for (int64_t l = 0; l < n_blocks; ++l) {
      x = gpt2_block(static_cast<size_t>(l), x, mask, lora);
      tap(l, x);
    }
  } else {
    // RoPE angles pos * theta^(-2i/d) in double, as the native rope_tables, then cast.
    const int64_t half = hp.head_dim_k / 2;
    std::vector<double> freq(static_cast<size_t>(half));
    for (int64_t i = 0; i < half; ++i)
      freq[static_cast<size_t>(i)] =
          std::pow(hp.rope_theta, -2.0 * static_cast<double>(i) / static_cast<double>(hp.head_dim_k));
    const Tensor f = torch::tensor(freq, torch::TensorOptions().dtype(torch::kDouble)).to(dev);
    const Tensor ang = pos.to(torch::kDouble).unsqueeze(-1) * f;  // [B, T, half]
    const Tensor cos = ang.cos().to(dtype).unsqueeze(2), sin = ang.sin().to(dtype).unsqueeze(2);  // [B, T, 1, half]
    for (int64_t l = 0; l < n_blocks; ++l) {
      x = qwen3_block(static_cast<size_t>(l), x, cos, sin, mask, lora);
      tap(l, x);
    }
  }
  return x;  // [B, T, n_embd], before the final norm
}

Tensor TorchModelImpl::forward(const Tensor& tokens, const LoraSet* lora, const Tensor& segments) {
  const HParams& hp = cfg_.hp;
  Tensor x = trunk(tokens, lora, segments, hp.n_layer, nullptr, nullptr);
  if (hp.arch == Arch::Gpt2)
    x = torch::layer_norm(x, {hp.n_embd}, output_norm_->weight, output_norm_->bias, hp.norm_eps);
  else
    x = rms_norm(x, output_norm_->weight, hp.norm_eps);
  if (cfg_.tied) return torch::matmul(x, token_embd_->weight.t());  // [B, T, n_vocab]
  return linear(x, *output_, "output.weight", lora);
}

std::vector<Tensor> TorchModelImpl::forward_hidden(const Tensor& tokens, const std::vector<int64_t>& layers) {
  int64_t deepest = -1;
  for (const int64_t l : layers) {
    if (l < 0 || l >= cfg_.hp.n_layer)
      throw Error("layer " + std::to_string(l) + " is outside [0, " + std::to_string(cfg_.hp.n_layer) + ")",
                  "TorchModel::forward_hidden");
    deepest = std::max(deepest, l);
  }
  std::vector<Tensor> taps(layers.size());
  if (layers.empty()) return taps;
  trunk(tokens, nullptr, {}, deepest + 1, &layers, &taps);
  return taps;
}


void TorchModelImpl::init_weights(double std, uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  const double out_std = std / std::sqrt(2.0 * static_cast<double>(cfg_.hp.n_layer));
  for (auto& kv : named_parameters()) {
    const std::string& name = kv.key();
    Tensor& p = kv.value();
    const bool is_bias = name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
    if (is_bias) {
      p.zero_();
    } else if (p.dim() == 1) {  // norm weights
      p.fill_(1.0);
    } else {
      const bool residual_out = name.find("attn_output") != std::string::npos || name.find("ffn_down") != std::string::npos;
      const Tensor v = at::normal(0.0, residual_out ? out_std : std, p.sizes(), gen,
                                  torch::TensorOptions().dtype(torch::kFloat));
      p.copy_(v);
    }
  }
}

void TorchModelImpl::set_frozen(bool frozen) {
  for (auto& p : parameters()) p.set_requires_grad(!frozen);
}

std::vector<LinearSpec> TorchModelImpl::linears() const {
  const HParams& hp = cfg_.hp;
  std::vector<LinearSpec> out;
  const int64_t E = hp.n_embd, F = hp.n_ff;
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    auto add = [&](const char* kind, const char* tensor, int64_t n_in, int64_t n_out) {
      out.push_back({p + tensor + ".weight", kind, l, n_in, n_out});
    };
    if (hp.arch == Arch::Qwen3) {
      add("q", "attn_q", E, hp.q_dim());
      add("k", "attn_k", E, hp.k_dim());
      add("v", "attn_v", E, hp.v_dim());
      add("o", "attn_output", hp.o_dim(), E);
      add("gate", "ffn_gate", E, F);
      add("up", "ffn_up", E, F);
      add("down", "ffn_down", F, E);
    } else {
      add("qkv", "attn_qkv", E, hp.q_dim() + hp.k_dim() + hp.v_dim());
      add("o", "attn_output", hp.o_dim(), E);
      add("up", "ffn_up", E, F);
      add("down", "ffn_down", F, E);
    }
  }
  if (!cfg_.tied) out.push_back({"output.weight", "output", -1, E, hp.n_vocab});
  return out;
}

std::map<std::string, Tensor> TorchModelImpl::gguf_tensors() const {
  std::map<std::string, Tensor> m;
  for (const auto& kv : named_parameters()) m.emplace(kv.key(), kv.value());
  return m;
}

}  // namespace paw::train
