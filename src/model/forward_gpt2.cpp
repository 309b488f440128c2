// One GPT-2 block: LayerNorm → fused QKV (+bias; rows Q, K, V) → causal attention →
// attn_output (+bias) → residual → LayerNorm → ffn_up (+bias) → GELU (tanh) → ffn_down
// (+bias) → residual. LoRA deltas land before the biases (inside ForwardRun::linears).
#include <cstring>

#include "model/forward_impl.hpp"

namespace paw {

void gpt2_layer(ForwardRun& r, int64_t l) {
  const HParams& hp = r.hp;
  const LayerWeights& w = r.m.weights().layers[static_cast<size_t>(l)];
  const int64_t T = r.n_tokens, E = hp.n_embd;
  const auto eps = static_cast<float>(hp.norm_eps);
  const int64_t qd = hp.q_dim(), kd = hp.k_dim(), vd = hp.v_dim(), qkv_w = qd + kd + vd;
  float* x = r.x();
  float* cur = r.cur();
  float* qkv = r.qkv();

  r.kt.layernorm(x, w.attn_norm.f32, w.attn_norm_b.f32, cur, T, E, eps);
  r.linears({{w.attn_qkv, qkv, &w.attn_qkv_b}}, cur, T);  // [T, 3 * n_embd]
  for (int64_t t = 0; t < T; ++t) {  // split rows into contiguous Q, K, V
    std::memcpy(r.q() + t * qd, qkv + t * qkv_w, static_cast<size_t>(qd) * sizeof(float));
    std::memcpy(r.k() + t * kd, qkv + t * qkv_w + qd, static_cast<size_t>(kd) * sizeof(float));
    std::memcpy(r.v() + t * vd, qkv + t * qkv_w + qd + kd, static_cast<size_t>(vd) * sizeof(float));
  }
  r.store_kv(l, r.k(), r.v());
  r.attend(l, r.q(), r.attn());
  r.linears({{w.attn_output, cur, &w.attn_output_b}}, r.attn(), T);
  r.kt.add(x, cur, x, T * E);

  r.kt.layernorm(x, w.ffn_norm.f32, w.ffn_norm_b.f32, cur, T, E, eps);
  float* u = r.ff_a();
  r.linears({{w.ffn_up, u, &w.ffn_up_b}}, cur, T);  // [T, n_ff]
  r.kt.gelu(u, u, T * hp.n_ff);
  r.linears({{w.ffn_down, cur, &w.ffn_down_b}}, u, T);  // [T, n_embd]
  r.kt.add(x, cur, x, T * E);
}

}  // namespace paw
