#pragma once
// A Session evaluates tokens with one shared, immutable Model. It owns everything mutable:
// the KV cache (F16 by default), the forward buffers (sized here, once) and the active LoRA
// adapters. Attaching or detaching adapters is cheap (a table of pointers is rebuilt; base
// weights are never touched). A Session is not thread-safe; use one per thread.
//
// Positions: the cache holds positions [0, n_past()). prefill() appends a batch, decode()
// appends one token; truncate(n) forgets positions >= n; kv_copy_out/in move the cache rows
// of positions [0, n) so a caller can save and restore a prompt prefix.
//
// Note: cached K/V depend on the adapters active when they were computed. Changing adapters
// does not recompute the cache; reset() (or truncate) and evaluate again when that matters.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "paw/adapter/lora.hpp"
#include "paw/model/forward.hpp"
#include "paw/model/kv_cache.hpp"
#include "paw/model/model.hpp"

namespace paw {

struct SessionOptions {
  int64_t n_ctx = 0;           // cache positions; 0 = min(model context_length, 2048)
  int64_t n_batch = 256;       // tokens per forward chunk; longer prefills are split
  DType kv_type = DType::F16;  // F16 or F32
  int n_threads = 0;           // 0 = default_thread_count(): one per physical core
  const KernelTable* kernels = nullptr;  // null = kernels() (the best for this CPU)
};

// What one prefill() call keeps besides the last position's logits.
struct EvalOptions {
  bool all_logits = false;        // logits of every position of this call (all_logits())
  std::vector<int> hidden_layers; // residual stream after these layers; negative counts from the end (-1 = last)
  int64_t hidden_last = 0;        // ... at the last N positions of this call (0 = every position)
};

// Hidden states captured by the last prefill(): data [layers.size(), n_pos, n_embd].
struct HiddenStates {
  std::vector<int> layers;  // resolved layer indices, in request order
  int64_t first_pos = 0;    // absolute position of row 0
  int64_t n_pos = 0;
  int64_t n_embd = 0;
  std::vector<float> data;
  // The n_embd values of request layer `li` at row `row` (position first_pos + row).
  std::span<const float> at(size_t li, int64_t row) const {
    return {data.data() + (static_cast<int64_t>(li) * n_pos + row) * n_embd, static_cast<size_t>(n_embd)};
  }
};

class Session {
 public:
  explicit Session(std::shared_ptr<const Model> model, const SessionOptions& opt = {});

  const Model& model() const { return *model_; }
  const std::shared_ptr<const Model>& model_ptr() const { return model_; }
  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_batch() const { return opts_.n_batch; }
  int64_t n_vocab() const { return model_->hparams().n_vocab; }

  // --- adapters ---------------------------------------------------------------------------
  // Adds an adapter with a user scale (effective scale per pair: scale · alpha / rank).
  // Throws paw::Error naming the adapter and tensor when its arch differs from the model's,
  // a pair targets a tensor the model lacks or is not a linear, or a shape differs. On error
  // the active set is unchanged.
  void attach(std::shared_ptr<const LoraAdapter> adapter, float scale = 1.0f);
  // Removes every attachment of `adapter` (no-op when it is not attached).
  void detach(const LoraAdapter* adapter);
  void detach_all();
  // Replaces the whole active set (validated like attach).
  void set_adapters(std::vector<ActiveAdapter> adapters);
  const std::vector<ActiveAdapter>& adapters() const { return adapters_; }

  // --- evaluation -------------------------------------------------------------------------
  // Evaluates tokens at positions [n_past, n_past + size) in chunks of n_batch. Throws
  // paw::Error before evaluating anything when the tokens do not fit the context or an id is
  // outside the vocabulary.
  void prefill(std::span<const int32_t> tokens, const EvalOptions& opt = {});
  void decode(int32_t token);
  // Logits of the last evaluated position [n_vocab] (empty before any evaluation and after
  // reset/truncate/kv_copy_in).
  std::span<const float> logits() const;
  // [n, n_vocab] for the n tokens of the last prefill() when it asked for all_logits.
  std::span<const float> all_logits() const { return all_logits_; }
  const HiddenStates& hidden_states() const { return hidden_; }

  // --- positions --------------------------------------------------------------------------
  int64_t n_past() const { return static_cast<int64_t>(tokens_.size()); }
  // The tokens at positions [0, n_past).
  const std::vector<int32_t>& tokens() const { return tokens_; }
  void reset();
  void truncate(int64_t n);  // keeps positions [0, n); n must be <= n_past()

  // --- KV prefix save/restore ----------------------------------------------------------------
  DType kv_type() const { return kv_.type(); }
  // Bytes of positions [0, n) in KVCache's copy format (per layer: K rows then V rows).
  size_t kv_bytes(int64_t n) const { return kv_.bytes_for(n); }
  void kv_copy_out(int64_t n, std::span<uint8_t> dst) const;
  // Restores positions [0, tokens.size()) from src (made by kv_copy_out with the same model,
  // cache type and adapters); n_past becomes tokens.size(). Logits are cleared.
  void kv_copy_in(std::span<const int32_t> tokens, std::span<const uint8_t> src);

 private:
  friend class BatchDecoder;  // evaluates the next token of many sessions in one forward
  AdapterBinding build_binding(const std::vector<ActiveAdapter>& list) const;

  std::shared_ptr<const Model> model_;
  SessionOptions opts_;
  int64_t n_ctx_;
  KVCache kv_;
  ForwardScratch scratch_;
  std::vector<ActiveAdapter> adapters_;
  AdapterBinding binding_;
  std::vector<int32_t> tokens_;
  std::vector<float> logits_;
  bool have_logits_ = false;
  std::vector<float> all_logits_;
  HiddenStates hidden_;
  std::vector<HiddenTap> taps_;
};

}  // namespace paw
