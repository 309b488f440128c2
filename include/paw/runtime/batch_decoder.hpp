#pragma once
// BatchDecoder: the next token of several Sessions (one model, each with its own adapters and
// KV cache) evaluated as ONE forward (model::forward_sequences) — the base weights are read
// once per step for all of them, which is what makes serving many programs at once cheaper
// than running them one after another. Each session then holds its token and that row's
// logits exactly as after Session::decode (up to the order of float sums; with one session it
// IS Session::decode).
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "paw/model/forward.hpp"
#include "paw/runtime/session.hpp"

namespace paw {

struct BatchDecoderOptions {
  int64_t max_rows = 8;        // sessions per step
  int64_t n_ctx = 2048;        // the longest session context it will see
  int n_threads = 0;           // 0 = default_thread_count()
  const KernelTable* kernels = nullptr;  // null = kernels()
};

class BatchDecoder {
 public:
  BatchDecoder(std::shared_ptr<const Model> model, const BatchDecoderOptions& opt = {});

  // Appends tokens[i] to sessions[i] for every i, in one forward. Throws paw::Error before
  // evaluating anything when the spans differ in length or exceed max_rows, a session is
  // listed twice or belongs to another model, or a session's context is full (or any error of
  // forward_sequences: token id, ...). On success each session's logits() are its row's.
  void decode(std::span<Session* const> sessions, std::span<const int32_t> tokens);

  int64_t max_rows() const { return scratch_.n_batch(); }

 private:
  std::shared_ptr<const Model> model_;
  ForwardScratch scratch_;
  std::vector<SequenceStep> rows_;   // [max_rows]
  std::vector<float> logits_;        // [max_rows, n_vocab]
};

}  // namespace paw
