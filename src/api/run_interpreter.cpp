// Interpreter: a loaded base model + tokenizer + the pool of sessions its programs share.
#include <algorithm>

#include "paw/formats/gguf.hpp"
#include "paw/interpreter.hpp"
#include "paw/ops/kernels.hpp"
#include "paw/program/base_model.hpp"
#include "paw/runtime/model_loader.hpp"
#include "paw/util/error.hpp"
#include "api/run_internal.hpp"

namespace paw {
namespace run_detail {

SessionPool::SessionPool(std::shared_ptr<const Model> model, SessionOptions so, int max_sessions)
    : model_(std::move(model)), so_(so), max_(std::max(1, max_sessions)) {}

SessionPool::Lease::~Lease() {
  if (!pool_ || !s_) return;
  if (dirty_) s_->reset();
  pool_->release(std::move(s_));
}

SessionPool::Lease SessionPool::acquire(const LoraAdapter* adapter) {
  std::unique_lock lk(mu_);
  for (;;) {
    if (!idle_.empty()) {
      // Prefer a session that already has this adapter (and maybe this program's prefix).
      auto holds = [&](const std::unique_ptr<Session>& s) {
        const auto& a = s->adapters();
        return adapter ? (a.size() == 1 && a[0].adapter.get() == adapter) : a.empty();
      };
      auto it = std::find_if(idle_.rbegin(), idle_.rend(), holds);
      auto pick = it != idle_.rend() ? std::prev(it.base()) : std::prev(idle_.end());
      std::unique_ptr<Session> s = std::move(*pick);
      idle_.erase(pick);
      return Lease(this, std::move(s));
    }
    if (created_.load() < max_) {
      created_.fetch_add(1);
      lk.unlock();
      try {
        return Lease(this, std::make_unique<Session>(model_, so_));
      } catch (...) {
        created_.fetch_sub(1);
        cv_.notify_one();
        throw;
      }
    }
    cv_.wait(lk);
  }
}

void SessionPool::release(std::unique_ptr<Session> s) {
  {
    std::lock_guard lk(mu_);
    idle_.push_back(std::move(s));
  }
  cv_.notify_one();
}

}  // namespace run_detail

Interpreter Interpreter::open(const std::string& model_path, const InterpreterOptions& opts) {
  auto impl = std::make_shared<Impl>();
  impl->path = model_path;
  impl->opts = opts;
  impl->cache_root = opts.cache_dir.empty() ? default_cache_dir() : opts.cache_dir;
  ModelLoadOptions lo;
  lo.interleave = opts.interleave;
  ModelWithTokenizer loaded = load_model_with_tokenizer(model_path, lo);
  impl->model = std::move(loaded.model);
  impl->tokenizer = std::move(loaded.tokenizer);
  const Model& m = *impl->model;
  // The reference stops on the vocabulary's EOS only (not llama.cpp's end-of-generation set).
  impl->eos = impl->tokenizer.eos_id().value_or(-1);

  int64_t n_ctx = opts.n_ctx > 0 ? opts.n_ctx : 2048;
  // GPT-2's learned positions are a hard cap; RoPE models run past their training context.
  if (m.arch() == Arch::Gpt2 && m.hparams().n_ctx_train > 0) n_ctx = std::min(n_ctx, m.hparams().n_ctx_train);
  impl->n_ctx = n_ctx;
  SessionOptions so;
  so.n_ctx = n_ctx;
  so.n_threads = opts.n_threads;
  if (opts.kv_type != DType::F16 && opts.kv_type != DType::F32)
    throw Error("the KV cache type must be f16 or f32", "InterpreterOptions::kv_type");
  so.kv_type = opts.kv_type;
  if (!opts.kernels.empty()) {
    so.kernels = find_kernels(opts.kernels);
    if (!so.kernels) {
      std::string known;
      for (const KernelTable* t : available_kernels()) known += std::string(known.empty() ? "" : ", ") + t->name;
      throw Error("unknown kernel table '" + opts.kernels + "'", "InterpreterOptions::kernels", "available here: " + known);
    }
  }
  impl->pool = std::make_unique<run_detail::SessionPool>(impl->model, so, opts.max_sessions);
  return Interpreter(std::move(impl));
}

const std::string& Interpreter::path() const { return impl_->path; }
std::string Interpreter::arch() const { return std::string(arch_name(impl_->model->arch())); }
const Model& Interpreter::model() const { return *impl_->model; }
const Tokenizer& Interpreter::tokenizer() const { return impl_->tokenizer; }
int64_t Interpreter::n_ctx() const { return impl_->n_ctx; }

int64_t Interpreter::kv_bytes_per_token() const {
  const HParams& hp = impl_->model->hparams();
  return hp.n_layer * (hp.k_dim() + hp.v_dim()) * static_cast<int64_t>(traits(impl_->opts.kv_type).type_size);
}
int32_t Interpreter::eos_id() const { return impl_->eos; }
uint64_t Interpreter::evaluated_tokens() const { return impl_->evaluated.load(); }
int Interpreter::sessions_created() const { return impl_->pool->created(); }

const std::string& Interpreter::model_sha256() const {
  std::lock_guard lk(impl_->hash_mu);
  if (!impl_->sha256) impl_->sha256 = run_detail::remembered_model_sha256(impl_->path, impl_->cache_root);
  return *impl_->sha256;
}

}  // namespace paw
