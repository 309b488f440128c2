// BatchDecoder: Session bookkeeping around model::forward_sequences.
#include "paw/runtime/batch_decoder.hpp"

#include <algorithm>
#include <string>

#include "paw/util/error.hpp"

namespace paw {

BatchDecoder::BatchDecoder(std::shared_ptr<const Model> model, const BatchDecoderOptions& opt)
    : model_(std::move(model)),
      scratch_(*model_, std::max<int64_t>(1, opt.max_rows), std::max<int64_t>(1, opt.n_ctx), opt.n_threads, opt.kernels) {
  rows_.reserve(static_cast<size_t>(scratch_.n_batch()));
  logits_.resize(static_cast<size_t>(scratch_.n_batch() * model_->hparams().n_vocab));
}

void BatchDecoder::decode(std::span<Session* const> sessions, std::span<const int32_t> tokens) {
  if (sessions.size() != tokens.size())
    throw Error("BatchDecoder: " + std::to_string(sessions.size()) + " sessions but " + std::to_string(tokens.size()) +
                    " tokens",
                "BatchDecoder::decode");
  if (static_cast<int64_t>(sessions.size()) > scratch_.n_batch())
    throw Error("BatchDecoder: " + std::to_string(sessions.size()) + " sessions exceed max_rows " +
                    std::to_string(scratch_.n_batch()),
                "BatchDecoder::decode", "decode at most max_rows sessions per step");
  if (sessions.empty()) return;
  rows_.clear();
  for (size_t i = 0; i < sessions.size(); ++i) {
    Session* s = sessions[i];
    const std::string at = "BatchDecoder session " + std::to_string(i);
    if (!s) throw Error(at + " is null", "BatchDecoder::decode");
    if (&s->model() != model_.get())
      throw Error(at + " runs another model", "BatchDecoder::decode", "batch only sessions of this decoder's model");
    if (s->n_past() >= s->n_ctx())
      throw Error(at + ": context full (" + std::to_string(s->n_ctx()) + " tokens)", "BatchDecoder::decode",
                  "use a larger context or a shorter input");
    if (s->n_past() >= scratch_.n_ctx())
      throw Error(at + ": position " + std::to_string(s->n_past()) + " is past this decoder's context of " +
                      std::to_string(scratch_.n_ctx()),
                  "BatchDecoder::decode", "make the decoder with the sessions' context");
    scratch_.reserve(s->binding_);  // grows only for a larger rank than seen so far
    rows_.push_back(SequenceStep{tokens[i], s->n_past(), &s->kv_, &s->binding_});
  }
  // forward_sequences checks the rest (shared caches = a session listed twice, token ids).
  forward_sequences(*model_, rows_, scratch_, logits_.data());
  const auto n_vocab = static_cast<size_t>(model_->hparams().n_vocab);
  for (size_t i = 0; i < sessions.size(); ++i) {
    Session& s = *sessions[i];
    s.tokens_.push_back(tokens[i]);
    std::copy_n(logits_.begin() + static_cast<std::ptrdiff_t>(i * n_vocab), n_vocab, s.logits_.begin());
    s.have_logits_ = true;
    s.all_logits_.clear();
  }
}

}  // namespace paw
