#pragma once
// One forward pass over a batch of tokens: embeddings, every layer (writing K/V into the
// cache), optional hidden-state taps, final norm and output head. Stateless apart from its
// arguments, so one immutable Model serves any number of sessions.
//
// Every linear layer goes through one function: y = W·x + Σ scale·B·(A·x) (+ bias), where the
// LoRA terms come from an AdapterBinding resolved once when adapters are attached.
#include <cstdint>
#include <span>
#include <vector>

#include "paw/model/kv_cache.hpp"
#include "paw/model/model.hpp"
#include "paw/ops/kernels.hpp"

namespace paw {

// One unmerged LoRA term on a linear: y += scale · B·(A·x).
struct LoraTerm {
  MatrixView a;        // [r rows, n_in cols]
  MatrixView b;        // [n_out rows, r cols]
  float scale = 1.0f;  // user scale · alpha / r (already combined)
};

// LoRA on the token embedding (llama.cpp's flipped layout): embedding(t) += scale · B·a_row(t).
struct EmbeddingLoraTerm {
  MatrixView a;        // [n_vocab rows, r cols]
  MatrixView b;        // [n_embd rows, r cols]
  float scale = 1.0f;
};

// Active LoRA terms per linear of a model (index = Model::linears() index).
struct AdapterBinding {
  std::vector<std::vector<LoraTerm>> per_linear;
  std::vector<EmbeddingLoraTerm> embedding;

  explicit AdapterBinding(size_t n_linears = 0) : per_linear(n_linears) {}
  bool empty() const;
  int64_t max_rank() const;
  // Adds a term after checking its shapes against the linear; throws paw::Error naming the
  // linear and both shapes on a mismatch.
  void add(const Model& m, int linear, const LoraTerm& t);
  void add_embedding(const Model& m, const EmbeddingLoraTerm& t);
};

struct ForwardRun;
struct ForwardRequest;
struct SequenceChunk;

// Per-session buffers, sized once for a maximum batch and context (the forward itself
// allocates nothing).
class ForwardScratch {
 public:
  // n_threads 0 = default_thread_count(); `kt` null = kernels().
  ForwardScratch(const Model& m, int64_t n_batch, int64_t n_ctx, int n_threads, const KernelTable* kt = nullptr);
  // Grows the LoRA buffers and the kernel workspace for these adapter terms (called when
  // adapters are attached, never per token).
  void reserve(const AdapterBinding& b);

  int64_t n_batch() const { return n_batch_; }
  int64_t n_ctx() const { return n_ctx_; }
  int n_threads() const { return n_threads_; }
  const KernelTable& kernels() const { return *kt_; }

 private:
  friend struct ForwardRun;   // the forward pass's private state (src/model/forward_impl.hpp)
  friend void forward(const Model& m, const AdapterBinding& adapters, KVCache& kv, ForwardScratch& s,
                      const ForwardRequest& req);
  friend void forward_sequences(const Model& m, std::span<const SequenceChunk> seqs, ForwardScratch& s, float* logits);
  void grow_workspace(size_t bytes);

  const KernelTable* kt_;
  int64_t n_batch_, n_ctx_;
  int n_threads_;
  int64_t lora_rank_ = 0;
  // Activations, [n_batch, width] each.
  std::vector<float> x_, cur_, q_, k_, v_, attn_, ff_a_, ff_b_, qkv_, lora_tmp_;
  // Decode groups (ForwardRun::linears) and the per-row LoRA jobs of forward_sequences: the calls of one job and the A results of up to
  // kMaxGroupLinears linears × their terms, [Σ ranks].
  std::vector<MatmulCall> group_calls_, group_then_;
  std::vector<float> group_tmp_;
  // Their first terms' B products, written apart from the base products (then added), [Σ n_out].
  std::vector<float> group_b_out_;
  int64_t group_terms_ = 0;      // most LoRA terms on one linear (group_tmp_ holds 3 × that × rank)
  size_t group_base_bytes_ = 0;  // largest matmul_group_scratch_bytes of a base linear
  std::vector<float> rope_cos_, rope_sin_;  // [n_batch, head_dim_k / 2]
  std::vector<int32_t> pos_;         // [n_batch] position of each batch row
  // forward_sequences: the chunks' tokens side by side [n_batch], the chunk of each row
  // [n_batch], and each chunk's first row [n_batch + 1].
  std::vector<int32_t> row_tokens_, row_seq_;
  std::vector<int64_t> seq_first_;
  // One token_embd row read back in its stored type when the table exists only interleaved
  // (the tied head's copy; ModelLoadOptions::interleave), [row_bytes(stored type, n_embd)].
  std::vector<uint8_t> embed_row_;
  struct FreeBytes {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t, FreeBytes> ws_;  // kernel workspace, 64-byte aligned
  size_t ws_bytes_ = 0;
};

// Copy of the residual stream after layer `layer` (0-based; the last layer's output is the
// stream before output_norm) for batch tokens [first, first + count) into dst [count, n_embd].
struct HiddenTap {
  int64_t layer = 0;
  int64_t first = 0;
  int64_t count = 0;
  float* dst = nullptr;
};

struct ForwardRequest {
  std::span<const int32_t> tokens;  // n_tokens <= scratch.n_batch()
  // Instead of tokens: input rows given directly, [n_rows, n_embd] floats (learned prefix
  // vectors, prompt tuning): each row takes a token's place after the embedding lookup (no
  // embedding LoRA; GPT-2's position rows are still added). Exactly one of tokens and
  // embeddings is non-empty.
  std::span<const float> embeddings;
  int64_t pos0 = 0;                 // position of row 0; cache rows [0, pos0) must be filled
  float* logits = nullptr;          // null: no head; else [n_vocab] or [n_tokens, n_vocab]
  bool logits_all = false;          // rows for every token (else only the last token's)
  std::span<const HiddenTap> taps;
};

// Runs the batch. Throws paw::Error (before touching the cache) for an out-of-range token id,
// a batch larger than the scratch, positions past the cache or past GPT-2's position table.
void forward(const Model& m, const AdapterBinding& adapters, KVCache& kv, ForwardScratch& s,
             const ForwardRequest& req);

// One sequence's part of a multi-sequence step: its next tokens (one when decoding; its prompt,
// or a piece of it, when it joins), with that sequence's own KV cache and adapters (batched
// serving: many programs over one base model).
struct SequenceChunk {
  std::span<const int32_t> tokens;          // >= 1 tokens, at positions pos0, pos0 + 1, ...
  int64_t pos0 = 0;                         // cache rows [0, pos0) must be filled
  KVCache* kv = nullptr;                    // this sequence's cache (one chunk per cache)
  const AdapterBinding* adapters = nullptr; // null or empty: the base model alone
};

// One step of several sequences as ONE forward over the shared weights: the base product of
// every linear runs once for all their token rows [Σ tokens, n_in] (the weights are read once
// per step instead of once per sequence); each chunk's LoRA terms apply to its rows alone
// (decoding chunks — one token — as one job of all their A products and, in its second
// round, their B products; longer chunks through the prefill path); K/V, RoPE and attention
// are per chunk, on its own cache and positions. Writes logits [n_chunks, n_vocab]: each
// chunk's last token. A chunk's results equal a one-sequence forward() of it up to the order
// of float sums (the kernels schedule a batch of rows differently from one row); with one
// chunk it IS that forward(). Throws paw::Error before touching any cache for no chunks, an
// empty chunk, more tokens than the scratch's batch, a missing or shared cache, an
// out-of-range token or position, or adapters that were not reserved in the scratch
// (ForwardScratch::reserve for each chunk's binding).
void forward_sequences(const Model& m, std::span<const SequenceChunk> seqs, ForwardScratch& s, float* logits);

}  // namespace paw
