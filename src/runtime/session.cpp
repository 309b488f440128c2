// Session: KV cache, buffers, adapters and position bookkeeping around model::forward().
#include "paw/runtime/session.hpp"

#include <algorithm>
#include <string>

#include "paw/util/error.hpp"

namespace paw {
namespace {

int64_t default_ctx(const Model& m, int64_t requested) {
  if (requested > 0) return requested;
  return std::min<int64_t>(m.hparams().n_ctx_train, 2048);
}

std::shared_ptr<const Model> require(std::shared_ptr<const Model> m) {
  if (!m) throw Error("Session needs a model", "Session");
  return m;
}

}  // namespace

Session::Session(std::shared_ptr<const Model> model, const SessionOptions& opt)
    : model_(require(std::move(model))),
      opts_(opt),
      n_ctx_(default_ctx(*model_, opt.n_ctx)),
      kv_(model_->hparams(), n_ctx_, opt.kv_type),
      scratch_(*model_, std::min(opt.n_batch > 0 ? opt.n_batch : 256, n_ctx_), n_ctx_, opt.n_threads, opt.kernels),
      binding_(model_->linears().size()),
      logits_(static_cast<size_t>(model_->hparams().n_vocab)) {
  opts_.n_batch = scratch_.n_batch();
  tokens_.reserve(static_cast<size_t>(n_ctx_));  // decode never reallocates the history
  if (model_->arch() == Arch::Gpt2 && n_ctx_ > model_->hparams().n_ctx_train)
    throw Error("context " + std::to_string(n_ctx_) + " exceeds GPT-2's " +
                    std::to_string(model_->hparams().n_ctx_train) + " positions",
                model_->path(), "use n_ctx <= context_length");
}

// --- adapters ---------------------------------------------------------------------------

AdapterBinding Session::build_binding(const std::vector<ActiveAdapter>& list) const {
  const Model& m = *model_;
  AdapterBinding b(m.linears().size());
  for (const ActiveAdapter& act : list) {
    if (!act.adapter) throw Error("attach: null adapter", "Session::attach");
    const LoraAdapter& ad = *act.adapter;
    if (!ad.arch().empty() && ad.arch() != arch_name(m.arch()))
      throw Error("adapter is for architecture '" + ad.arch() + "' but the model is '" +
                      std::string(arch_name(m.arch())) + "'",
                  ad.path(), "use an adapter made for this base model");
    for (const auto& [name, pair] : ad.pairs()) {
      const int idx = m.find_linear(name);
      if (idx < 0) {
        const bool exists = m.find_weight(name) != nullptr;
        throw Error(exists ? "adapter targets '" + name + "', which is not a linear layer of the model"
                           : "adapter targets '" + name + "', which the model does not have",
                    ad.path(), "the adapter was made for a different base model");
      }
      try {
        b.add(m, idx, LoraTerm{pair.a_kernel, pair.b_kernel, act.scale * ad.pair_factor(pair)});
      } catch (const Error& e) {
        throw Error(e.what_failed(), ad.path(), e.hint());
      }
    }
    if (const LoraEmbeddingPair* e = ad.embedding_pair()) {
      try {
        b.add_embedding(m, EmbeddingLoraTerm{e->a, e->b, act.scale * ad.embedding_factor()});
      } catch (const Error& err) {
        throw Error(err.what_failed(), ad.path(), err.hint());
      }
    }
  }
  return b;
}

void Session::set_adapters(std::vector<ActiveAdapter> adapters) {
  AdapterBinding b = build_binding(adapters);  // throws before anything changes
  scratch_.reserve(b);
  binding_ = std::move(b);
  adapters_ = std::move(adapters);
}

void Session::attach(std::shared_ptr<const LoraAdapter> adapter, float scale) {
  auto next = adapters_;
  next.push_back(ActiveAdapter{std::move(adapter), scale});
  set_adapters(std::move(next));
}

void Session::detach(const LoraAdapter* adapter) {
  auto next = adapters_;
  std::erase_if(next, [&](const ActiveAdapter& a) { return a.adapter.get() == adapter; });
  set_adapters(std::move(next));
}

void Session::detach_all() { set_adapters({}); }

// --- evaluation -------------------------------------------------------------------------

void Session::prefill(std::span<const int32_t> tokens, const EvalOptions& opt) {
  const HParams& hp = model_->hparams();
  const auto N = static_cast<int64_t>(tokens.size());
  if (N == 0) return;
  const int64_t start = n_past();
  // Every check happens before the first chunk runs, so a bad call changes nothing.
  if (start + N > n_ctx_)
    throw Error("context overflow: " + std::to_string(start) + " cached + " + std::to_string(N) +
                    " new tokens exceed the context of " + std::to_string(n_ctx_),
                "Session::prefill", "use a larger context (SessionOptions::n_ctx) or a shorter input");
  for (int64_t i = 0; i < N; ++i)
    if (tokens[i] < 0 || tokens[i] >= hp.n_vocab)
      throw Error("token id " + std::to_string(tokens[i]) + " at index " + std::to_string(i) +
                      " is outside the vocabulary [0, " + std::to_string(hp.n_vocab) + ")",
                  "Session::prefill");
  std::vector<int> layers;
  for (int l : opt.hidden_layers) {
    const int64_t r = l < 0 ? hp.n_layer + l : l;
    if (r < 0 || r >= hp.n_layer)
      throw Error("hidden-state layer " + std::to_string(l) + " is outside [-" + std::to_string(hp.n_layer) + ", " +
                      std::to_string(hp.n_layer) + ")",
                  "Session::prefill");
    layers.push_back(static_cast<int>(r));
  }
  const int64_t K = layers.empty() ? 0 : (opt.hidden_last > 0 ? std::min(opt.hidden_last, N) : N);

  hidden_.layers = layers;
  hidden_.n_embd = hp.n_embd;
  hidden_.n_pos = K;
  hidden_.first_pos = start + N - K;
  hidden_.data.assign(layers.size() * static_cast<size_t>(K * hp.n_embd), 0.0f);
  if (opt.all_logits)
    all_logits_.resize(static_cast<size_t>(N * hp.n_vocab));
  else
    all_logits_.clear();

  have_logits_ = false;
  const int64_t hs = N - K;  // index (in this call) of the first captured position
  for (int64_t i = 0; i < N; i += scratch_.n_batch()) {
    const int64_t n = std::min(scratch_.n_batch(), N - i);
    taps_.clear();
    const int64_t a = std::max(hs, i), z = i + n;
    if (K > 0 && a < z)
      for (size_t li = 0; li < layers.size(); ++li)
        taps_.push_back(HiddenTap{layers[li], a - i, z - a,
                                  hidden_.data.data() + (static_cast<int64_t>(li) * K + (a - hs)) * hp.n_embd});
    ForwardRequest req;
    req.tokens = tokens.subspan(static_cast<size_t>(i), static_cast<size_t>(n));
    req.pos0 = start + i;
    req.taps = taps_;
    const bool last_chunk = i + n == N;
    if (opt.all_logits) {
      req.logits = all_logits_.data() + i * hp.n_vocab;
      req.logits_all = true;
    } else if (last_chunk) {
      req.logits = logits_.data();
    }
    forward(*model_, binding_, kv_, scratch_, req);
    tokens_.insert(tokens_.end(), req.tokens.begin(), req.tokens.end());
  }
  if (opt.all_logits)
    std::copy(all_logits_.end() - hp.n_vocab, all_logits_.end(), logits_.begin());
  have_logits_ = true;
}

void Session::decode(int32_t token) {
  const int32_t t[1] = {token};
  prefill(t);
}

std::span<const float> Session::logits() const {
  if (!have_logits_) return {};
  return logits_;
}

// --- positions --------------------------------------------------------------------------

void Session::reset() {
  tokens_.clear();
  have_logits_ = false;
  all_logits_.clear();
  hidden_ = HiddenStates{};
}

void Session::truncate(int64_t n) {
  if (n < 0 || n > n_past())
    throw Error("truncate to " + std::to_string(n) + " positions, but only " + std::to_string(n_past()) +
                    " are cached",
                "Session::truncate");
  if (n == n_past()) return;
  tokens_.resize(static_cast<size_t>(n));
  have_logits_ = false;
  all_logits_.clear();
}

void Session::kv_copy_out(int64_t n, std::span<uint8_t> dst) const {
  if (n < 0 || n > n_past())
    throw Error("KV copy-out of " + std::to_string(n) + " positions, but only " + std::to_string(n_past()) +
                    " are cached",
                "Session::kv_copy_out");
  kv_.copy_out(n, dst);
}

void Session::kv_copy_in(std::span<const int32_t> tokens, std::span<const uint8_t> src) {
  const auto n = static_cast<int64_t>(tokens.size());
  if (n > n_ctx_)
    throw Error("KV copy-in of " + std::to_string(n) + " positions exceeds the context of " + std::to_string(n_ctx_),
                "Session::kv_copy_in");
  for (int32_t t : tokens)
    if (t < 0 || t >= n_vocab()) throw Error("KV copy-in: token id " + std::to_string(t) + " outside the vocabulary", "Session::kv_copy_in");
  kv_.copy_in(n, src);
  tokens_.assign(tokens.begin(), tokens.end());
  have_logits_ = false;
  all_logits_.clear();
  hidden_ = HiddenStates{};
}

}  // namespace paw
