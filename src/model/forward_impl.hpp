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
  void run(std::span<const int32_t> tokens, std::span<const HiddenTap> taps, float* logits, int64_t first);
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

  float* x() { return s.x_.data(); }
  float* cur() { return s.cur_.data(); }
  ForwardScratch& scratch() { return s; }
};

// One transformer block, in place on the residual stream s.x_ [T, n_embd].
void llama_family_layer(ForwardRun& r, int64_t layer);  // qwen3, llama
void gpt2_layer(ForwardRun& r, int64_t layer);

}  // namespace paw
