// BatchDecoder: Session bookkeeping around model::forward_sequences.
#include "paw/runtime/batch_decoder.hpp"

#include <algorithm>
#include <string>

#include "paw/util/error.hpp"

namespace paw {

BatchDecoder::BatchDecoder(std::shared_ptr<const Model> model, const BatchDecoderOptions& opt)
    : model_(std::move(model)),
      max_sequences_(std::max<int64_t>(1, opt.max_sequences)),
      scratch_(*model_, std::max(max_sequences_, opt.max_tokens), std::max<int64_t>(1, opt.n_ctx), opt.n_threads,
               opt.kernels) {
  seqs_.reserve(static_cast<size_t>(max_sequences_));
  one_token_.reserve(static_cast<size_t>(max_sequences_));
  logits_.resize(static_cast<size_t>(max_sequences_ * model_->hparams().n_vocab));
}

void BatchDecoder::step(std::span<Session* const> sessions, std::span<const std::span<const int32_t>> chunks) {
  if (sessions.size() != chunks.size())
    throw Error("BatchDecoder: " + std::to_string(sessions.size()) + " sessions but " + std::to_string(chunks.size()) +
                    " chunks",
                "BatchDecoder::step");
  if (static_cast<int64_t>(sessions.size()) > max_sequences_)
    throw Error("BatchDecoder: " + std::to_string(sessions.size()) + " sessions exceed max_sequences " +
                    std::to_string(max_sequences_),
                "BatchDecoder::step", "evaluate at most max_sequences sessions per step");
  if (sessions.empty()) return;
  seqs_.clear();
  int64_t total = 0;
  for (size_t i = 0; i < sessions.size(); ++i) {
    Session* s = sessions[i];
    const std::string at = "BatchDecoder session " + std::to_string(i);
    if (!s) throw Error(at + " is null", "BatchDecoder::step");
    if (&s->model() != model_.get())
      throw Error(at + " runs another model", "BatchDecoder::step", "batch only sessions of this decoder's model");
    const auto n = static_cast<int64_t>(chunks[i].size());
    if (n == 0) throw Error(at + ": no tokens", "BatchDecoder::step");
    total += n;
    if (s->n_past() + n > s->n_ctx())
      throw Error(at + ": context overflow (" + std::to_string(s->n_past()) + " cached + " + std::to_string(n) +
                      " new tokens exceed " + std::to_string(s->n_ctx()) + ")",
                  "BatchDecoder::step", "use a larger context or a shorter input");
    if (s->n_past() + n > scratch_.n_ctx())
      throw Error(at + ": positions up to " + std::to_string(s->n_past() + n - 1) + " are past this decoder's context of " +
                      std::to_string(scratch_.n_ctx()),
                  "BatchDecoder::step", "make the decoder with the sessions' context");
    scratch_.reserve(s->binding_);  // grows only for a larger rank than seen so far
    seqs_.push_back(SequenceChunk{chunks[i], s->n_past(), &s->kv_, &s->binding_});
  }
  if (total > scratch_.n_batch())
    throw Error("BatchDecoder: " + std::to_string(total) + " tokens exceed max_tokens " + std::to_string(scratch_.n_batch()),
                "BatchDecoder::step", "split long prompts over several steps");
  // forward_sequences checks the rest (shared caches = a session listed twice, token ids).
  forward_sequences(*model_, seqs_, scratch_, logits_.data());
  const auto n_vocab = static_cast<size_t>(model_->hparams().n_vocab);
  for (size_t i = 0; i < sessions.size(); ++i) {
    Session& s = *sessions[i];
    s.tokens_.insert(s.tokens_.end(), chunks[i].begin(), chunks[i].end());
    std::copy_n(logits_.begin() + static_cast<std::ptrdiff_t>(i * n_vocab), n_vocab, s.logits_.begin());
    s.have_logits_ = true;
    s.all_logits_.clear();
    s.hidden_ = HiddenStates{};
  }
}

void BatchDecoder::decode(std::span<Session* const> sessions, std::span<const int32_t> tokens) {
  one_token_.clear();
  for (const int32_t& t : tokens) one_token_.emplace_back(&t, 1);
  step(sessions, one_token_);
}

}  // namespace paw
