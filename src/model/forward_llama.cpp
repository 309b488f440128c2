// One Qwen3 / Llama block: RMSNorm → Q/K/V → (Qwen3 only: per-head RMSNorm on Q and K, over
// head_dim) → RoPE (NeoX, or interleaved for llama GGUF files) → causal GQA attention →
// attn_output → residual → RMSNorm → SwiGLU MLP → residual.
#include "model/forward_impl.hpp"

namespace paw {

void llama_family_layer(ForwardRun& r, int64_t l) {
  const HParams& hp = r.hp;
  const LayerWeights& w = r.m.weights().layers[static_cast<size_t>(l)];
  const int64_t T = r.n_tokens, E = hp.n_embd;
  const auto eps = static_cast<float>(hp.norm_eps);
  float* x = r.x();
  float* cur = r.cur();
  float* q = r.q();
  float* k = r.k();
  float* v = r.v();

  r.kt.rmsnorm(x, w.attn_norm.f32, cur, T, E, eps);
  r.linears({{w.attn_q, q},   // [T, n_head * head_dim]
             {w.attn_k, k},   // [T, n_head_kv * head_dim]
             {w.attn_v, v}},  // [T, n_head_kv * head_dim_v]
            cur, T);
  if (w.attn_q_norm.present()) {  // Qwen3 (required there by the binding table)
    r.kt.rmsnorm(q, w.attn_q_norm.f32, q, T * hp.n_head, hp.head_dim_k, eps);
    r.kt.rmsnorm(k, w.attn_k_norm.f32, k, T * hp.n_head_kv, hp.head_dim_k, eps);
  }
  const auto rope = hp.rope_style == RopeStyle::Interleaved ? r.kt.rope_interleaved : r.kt.rope_neox;
  rope(q, T, hp.n_head, hp.head_dim_k, r.rope_cos(), r.rope_sin());
  rope(k, T, hp.n_head_kv, hp.head_dim_k, r.rope_cos(), r.rope_sin());
  r.store_kv(l, k, v);
  r.attend(l, q, r.attn());                 // [T, n_head * head_dim_v]
  r.linears({{w.attn_output, cur}}, r.attn(), T);  // [T, n_embd]
  r.kt.add(x, cur, x, T * E);

  r.kt.rmsnorm(x, w.ffn_norm.f32, cur, T, E, eps);
  float* g = r.ff_a();
  float* u = r.ff_b();
  r.linears({{w.ffn_gate, g}, {w.ffn_up, u}}, cur, T);  // [T, n_ff] each
  r.kt.swiglu(g, u, g, T * hp.n_ff);
  r.linears({{w.ffn_down, cur}}, g, T);  // [T, n_embd]
  r.kt.add(x, cur, x, T * E);
}

}  // namespace paw
