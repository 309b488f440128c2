#pragma once
// Private: the state of one forward call and the building blocks the per-architecture
// layer functions share.
#include <initializer_list>

#include "paw/model/forward.hpp"

namespace paw {

// Most linears one ForwardRun::linears call takes (q, k, v).
constexpr int64_t kMaxGroupLinears = 3;

struct ForwardRun {
  const Model& m;
  const HParams& hp;
  const AdapterBinding& ad;   // one sequence's adapters (empty in rows mode)
  KVCache* kv;                // one sequence's cache (null in rows mode)
  ForwardScratch& s;
  const KernelTable& kt;
  OpContext ctx;
  int64_t n_tokens;
  int64_t pos0;
  // Several sequences (forward_sequences): the token rows are their chunks side by side (chunk
  // c: rows [seq_first_[c], seq_first_[c + 1]) of the scratch), each with its own cache,
  // positions and adapters. Empty: the tokens are one sequence at pos0, pos0 + 1, ...
  std::span<const SequenceChunk> seqs;

  ForwardRun(const Model& model, const AdapterBinding& adapters, KVCache* cache, ForwardScratch& scratch,
             int64_t n, int64_t p0, std::span<const SequenceChunk> chunks = {});

  // Embeddings (+ GPT-2's position rows, or the RoPE tables, from s.pos_ [T]), every layer
  // with its taps, then — when logits is set — the final norm and head on rows [first, T)
  // (several sequences: on the last row of each chunk).
  // `rows` (one sequence only): input rows [T, n_embd] used instead of embedding `tokens`.
  void run(std::span<const int32_t> tokens, std::span<const HiddenTap> taps, float* logits, int64_t first,
           std::span<const float> rows = {});
  // THE linear: y[T, n_out] = x[T, n_in]·Wᵀ + Σ scale·B(A·x) (+ bias, added after the deltas).
  void linear(const WeightRef& w, const float* x, float* y, int64_t n_tok, const WeightRef* bias = nullptr);
  // Several linears of the same input x [T, n_in] (q/k/v, gate/up, or one alone). At decode
  // (T = 1, more than one thread) the base products, every LoRA A product and then, in the
  // same job's second round, the B products run as ONE parallel job (ops matmul_group),
  // instead of a job per product with the small LoRA ones on a single thread; otherwise
  // linear() per output. The results are the same bit for bit either way.
  struct Out {
    const WeightRef& w;
    float* y;                          // [T, rows of w]
    const WeightRef* bias = nullptr;   // added after the deltas
  };
  void linears(std::initializer_list<Out> outs, const float* x, int64_t n_tok);
  // Several sequences: each chunk's LoRA terms on the linears of `outs` (same input x), applied
  // to that chunk's rows alone.
  void row_deltas(std::initializer_list<Out> outs, const float* x);
  // x rows = token embeddings (+ embedding LoRA terms).
  void embed(std::span<const int32_t> tokens, float* x);
  // Writes this batch's K/V rows ([T, k_dim], [T, v_dim]) into the cache at pos0 (several
  // sequences: row t into its chunk's cache at pos_[t]).
  void store_kv(int64_t layer, const float* k, const float* v);
  // Causal attention of q [T, q_dim] over cache rows [0, pos0 + T) of `layer` into out [T, o_dim].
  void attend(int64_t layer, const float* q, float* out);

  // The scratch buffers a block works in, each [n_batch, width].
  float* x() { return s.x_.data(); }        // residual stream [T, n_embd]
  float* cur() { return s.cur_.data(); }    // normed input / block output [T, n_embd]
  float* q() { return s.q_.data(); }        // [T, q_dim]
  float* k() { return s.k_.data(); }        // [T, k_dim]
  float* v() { return s.v_.data(); }        // [T, v_dim]
  float* qkv() { return s.qkv_.data(); }    // fused projections (GPT-2) [T, q_dim + k_dim + v_dim]
  float* attn() { return s.attn_.data(); }  // attention output [T, o_dim]
  float* ff_a() { return s.ff_a_.data(); }  // [T, n_ff]
  float* ff_b() { return s.ff_b_.data(); }  // [T, n_ff]
  const float* rope_cos() const { return s.rope_cos_.data(); }  // [T, head_dim_k / 2]
  const float* rope_sin() const { return s.rope_sin_.data(); }
};

// What one architecture brings to the shared forward pass: its block (in place on the
// residual stream [T, n_embd]), how positions enter, and its final norm. A new architecture
// adds its block function and a row in arch_forward() (forward_arch.cpp); forward.cpp and the
// public header stay as they are.
struct ArchForward {
  void (*block)(ForwardRun& r, int64_t layer);
  bool learned_positions;   // true: position_embd rows added to the embeddings (GPT-2); false: RoPE tables
  bool layer_norm;          // final norm: LayerNorm with bias (GPT-2); false: RMSNorm
};
const ArchForward& arch_forward(Arch arch);

void llama_family_layer(ForwardRun& r, int64_t layer);  // qwen3, llama
void gpt2_layer(ForwardRun& r, int64_t layer);

}  // namespace paw
