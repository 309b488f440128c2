#pragma once
// BatchDecoder: the next tokens of several Sessions (one model, each with its own adapters
// and KV cache) evaluated as ONE forward (model::forward_sequences) — the base weights are
// read once per step for all of them, which is what makes serving many programs at once
// cheaper than running them one after another. A step mixes sequences that decode (one
// token each) with sequences that join with their prompt (a chunk of tokens). Afterwards
// each session holds its tokens and the logits of its last one exactly as after
// Session::prefill/decode, up to the order of float sums (with one session it IS that call).
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "paw/model/forward.hpp"
#include "paw/runtime/session.hpp"

namespace paw {

struct BatchDecoderOptions {
  int64_t max_sequences = 8;   // sessions per step
  int64_t max_tokens = 256;    // tokens per step, all sessions together (>= max_sequences)
  int64_t n_ctx = 2048;        // the longest session context it will see
  int n_threads = 0;           // 0 = default_thread_count()
  const KernelTable* kernels = nullptr;  // null = kernels()
};

class BatchDecoder {
 public:
  BatchDecoder(std::shared_ptr<const Model> model, const BatchDecoderOptions& opt = {});

  // Appends chunks[i] to sessions[i] for every i, in one forward. Throws paw::Error before
  // evaluating anything when the spans differ in length, there are more than max_sequences
  // sessions or more than max_tokens tokens, a chunk is empty, a session is listed twice or
  // belongs to another model, or a chunk does not fit its session's context (or any error of
  // forward_sequences: token ids, ...). On success each session's logits() are those after
  // its last new token.
  void step(std::span<Session* const> sessions, std::span<const std::span<const int32_t>> chunks);
  // The same with one token per session.
  void decode(std::span<Session* const> sessions, std::span<const int32_t> tokens);

  int64_t max_sequences() const { return max_sequences_; }
  int64_t max_tokens() const { return scratch_.n_batch(); }

 private:
  std::shared_ptr<const Model> model_;
  int64_t max_sequences_;
  ForwardScratch scratch_;
  std::vector<SequenceChunk> seqs_;   // [max_sequences]
  std::vector<std::span<const int32_t>> one_token_;
  std::vector<float> logits_;         // [max_sequences, n_vocab]
};

}  // namespace paw
