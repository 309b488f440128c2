// ForwardScratch: every buffer a forward call needs, sized once.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "model/forward_impl.hpp"
#include "paw/model/forward.hpp"
#include "paw/tensor/interleave.hpp"
#include "paw/tensor/quantize.hpp"
#include "paw/util/error.hpp"

namespace paw {

void ForwardScratch::FreeBytes::operator()(uint8_t* p) const { std::free(p); }

ForwardScratch::ForwardScratch(const Model& m, int64_t n_batch, int64_t n_ctx, int n_threads, const KernelTable* kt)
    : kt_(kt ? kt : &paw::kernels()),
      n_batch_(n_batch),
      n_ctx_(n_ctx),
      n_threads_(n_threads > 0 ? n_threads : default_thread_count()) {
  if (n_batch <= 0 || n_ctx <= 0) throw Error("batch and context sizes must be positive", "ForwardScratch");
  const HParams& hp = m.hparams();
  const auto B = static_cast<size_t>(n_batch);
  x_.resize(B * hp.n_embd);
  cur_.resize(B * hp.n_embd);
  attn_.resize(B * hp.o_dim());
  ff_a_.resize(B * hp.n_ff);
  ff_b_.resize(B * hp.n_ff);
  if (is_llama_family(hp.arch)) {
    q_.resize(B * hp.q_dim());
    k_.resize(B * hp.k_dim());
    v_.resize(B * hp.v_dim());
    rope_cos_.resize(B * hp.head_dim_k / 2);
    rope_sin_.resize(B * hp.head_dim_k / 2);
  } else {
    qkv_.resize(B * (hp.q_dim() + hp.k_dim() + hp.v_dim()));
    q_.resize(B * hp.q_dim());
    k_.resize(B * hp.k_dim());
    v_.resize(B * hp.v_dim());
  }
  pos_.resize(B);
  row_tokens_.resize(B);
  row_seq_.resize(B);
  seq_first_.resize(B + 1);
  if (const DType e = m.weights().token_embd.kernel_view().type; is_interleaved(e))
    embed_row_.resize(*row_bytes(stored_type(e), hp.n_embd));
  // Kernel workspace: the largest need of any matmul (every linear and the head, at the
  // full batch) and of attention over the whole context.
  size_t need = kt_->attention_scratch_bytes(n_ctx, hp.head_dim_v, n_threads_);
  // Decode groups (ForwardRun::linears) hold up to kMaxGroupLinears base products side by side.
  for (const LinearInfo& li : m.linears()) {
    need = std::max(need, kt_->matmul_scratch_bytes(li.kernel.type, li.n_in(), n_batch, n_threads_));
    group_base_bytes_ = std::max(group_base_bytes_, matmul_group_scratch_bytes(*kt_, li.kernel.type, li.n_in(), n_threads_));
  }
  need = std::max(need, kt_->matmul_scratch_bytes(m.head_kernel().type, hp.n_embd, n_batch, n_threads_));
  need = std::max(need, static_cast<size_t>(kMaxGroupLinears) * group_base_bytes_);
  group_calls_.reserve(static_cast<size_t>(kMaxGroupLinears * n_batch));
  group_then_.reserve(static_cast<size_t>(kMaxGroupLinears * n_batch));
  grow_workspace(need);
}

void ForwardScratch::grow_workspace(size_t bytes) {
  if (bytes <= ws_bytes_ && ws_) return;
  const size_t rounded = std::max<size_t>(64, (bytes + 63) / 64 * 64);
  auto* p = static_cast<uint8_t*>(std::aligned_alloc(64, rounded));
  if (!p) throw Error("cannot allocate " + std::to_string(rounded) + " bytes of kernel workspace", "ForwardScratch");
  ws_.reset(p);
  ws_bytes_ = rounded;
}

void ForwardScratch::reserve(const AdapterBinding& b) {
  const int64_t r = b.max_rank();
  if (r > lora_rank_) {
    lora_rank_ = r;
    // [kMaxGroupLinears, n_batch, r]: forward_sequences keeps the A results of every row of
    // up to three linears side by side (decode and prefill use the first [n_batch, r]).
    lora_tmp_.resize(static_cast<size_t>(kMaxGroupLinears * n_batch_ * r));
  }
  size_t need = ws_bytes_;
  // A decode group holds up to kMaxGroupLinears linears, each with its base product, its A
  // products and its first term's B product (one job), or a further term's B (later jobs).
  size_t lora_members = 0;
  int64_t widest_b = 0;  // rows of the tallest B matrix
  for (const auto& terms : b.per_linear) {
    size_t a_sum = 0, b_sum = 0;
    for (const LoraTerm& t : terms) {
      need = std::max(need, kt_->matmul_scratch_bytes(t.a.type, t.a.cols, n_batch_, n_threads_));
      need = std::max(need, kt_->matmul_scratch_bytes(t.b.type, t.b.cols, n_batch_, n_threads_));
      a_sum += matmul_group_scratch_bytes(*kt_, t.a.type, t.a.cols, n_threads_);
      b_sum += matmul_group_scratch_bytes(*kt_, t.b.type, t.b.cols, n_threads_);
      widest_b = std::max(widest_b, t.b.rows);
    }
    lora_members = std::max(lora_members, a_sum + b_sum);
    group_terms_ = std::max(group_terms_, static_cast<int64_t>(terms.size()));
  }
  need = std::max(need, static_cast<size_t>(kMaxGroupLinears) * (group_base_bytes_ + lora_members));
  // forward_sequences: one job holds one term of one linear for every row of the batch.
  need = std::max(need, static_cast<size_t>(kMaxGroupLinears * n_batch_) * lora_members);
  group_tmp_.resize(std::max(group_tmp_.size(), static_cast<size_t>(kMaxGroupLinears * group_terms_ * r)));
  group_b_out_.resize(std::max(group_b_out_.size(), static_cast<size_t>(kMaxGroupLinears * widest_b)));
  group_calls_.reserve(static_cast<size_t>(std::max(kMaxGroupLinears * (1 + group_terms_), kMaxGroupLinears * n_batch_)));
  group_then_.reserve(static_cast<size_t>(kMaxGroupLinears * n_batch_));
  for (const auto& e : b.embedding) need = std::max(need, kt_->matmul_scratch_bytes(e.b.type, e.b.cols, n_batch_, n_threads_));
  grow_workspace(need);
}

}  // namespace paw
