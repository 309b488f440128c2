// The forward pass shared by both architectures: validation, embeddings, the one linear
// function, KV writes, attention, hidden-state taps and the output head.
#include "paw/model/forward.hpp"

#include <cmath>
#include <cstring>
#include <string>

#include "model/forward_impl.hpp"
#include "paw/tensor/interleave.hpp"
#include "paw/tensor/quantize.hpp"
#include "paw/util/error.hpp"

namespace paw {

ForwardRun::ForwardRun(const Model& model, const AdapterBinding& adapters, KVCache& cache, ForwardScratch& scratch,
                       int64_t n, int64_t p0)
    : m(model), hp(model.hparams()), ad(adapters), kv(cache), s(scratch), kt(scratch.kernels()),
      ctx{scratch.n_threads(), scratch.ws_.get(), scratch.ws_bytes_}, n_tokens(n), pos0(p0) {}

void ForwardRun::linear(const WeightRef& w, const float* x, float* y, int64_t n_tok, const WeightRef* bias) {
  kt.matmul(w.kernel_view(), x, y, n_tok, /*accumulate=*/false, ctx);
  if (w.linear >= 0 && static_cast<size_t>(w.linear) < ad.per_linear.size())
    for (const LoraTerm& t : ad.per_linear[static_cast<size_t>(w.linear)])
      lora_apply(kt, t.a, t.b, t.scale, x, y, n_tok, s.lora_tmp_.data(), ctx);
  if (bias && bias->present()) kt.add_rows(y, bias->f32, n_tok, w.view.rows);
}

void ForwardRun::linears(std::initializer_list<Out> outs, const float* x, int64_t n_tok) {
  const auto terms_of = [&](const WeightRef& w) -> const std::vector<LoraTerm>* {
    if (w.linear < 0 || static_cast<size_t>(w.linear) >= ad.per_linear.size()) return nullptr;
    return &ad.per_linear[static_cast<size_t>(w.linear)];
  };
  const auto one_by_one = [&] {
    for (const Out& o : outs) linear(o.w, x, o.y, n_tok, o.bias);
  };
  if (n_tok != 1 || ctx.n_threads <= 1 || !kt.matmul_group || static_cast<int64_t>(outs.size()) > kMaxGroupLinears)
    return one_by_one();
  int64_t tmp_need = 0, b_out_need = 0;  // A results of every term, B results of first terms: side by side
  for (const Out& o : outs)
    if (const auto* terms = terms_of(o.w); terms && !terms->empty()) {
      for (const LoraTerm& t : *terms) tmp_need += t.a.rows;
      b_out_need += o.w.view.rows;
    }
  if (tmp_need > static_cast<int64_t>(s.group_tmp_.size()) || b_out_need > static_cast<int64_t>(s.group_b_out_.size()))
    return one_by_one();
  // capacity reserved (ForwardScratch::reserve): no allocation here
  std::vector<MatmulCall>& calls = s.group_calls_;
  std::vector<MatmulCall>& then = s.group_then_;
  // One job: every base product and every A product (all read x), then — in the same job,
  // once its A product is done — the B product of each linear's first term, scaled by its
  // factor, into a buffer of its own: depending on the A products alone, the B products run
  // amid the base products instead of after them (ops matmul_group), and are added after the
  // job — y + B·a, the very sum matmul's accumulate would store.
  calls.clear();
  then.clear();
  float* tmp = s.group_tmp_.data();
  float* b_out = s.group_b_out_.data();
  for (const Out& o : outs) {
    calls.push_back({o.w.kernel_view(), x, o.y, false});
    if (const auto* terms = terms_of(o.w))
      for (size_t j = 0; j < terms->size(); ++j) {
        const LoraTerm& t = (*terms)[j];
        calls.push_back({t.a, x, tmp, false});  // [r]
        if (j == 0) {
          then.push_back({t.b, tmp, b_out, false, t.scale});  // [n_out]
          b_out += o.w.view.rows;
        }
        tmp += t.a.rows;
      }
  }
  matmul_group(kt, calls, then, ctx);
  b_out = s.group_b_out_.data();
  for (const Out& o : outs)
    if (const auto* terms = terms_of(o.w); terms && !terms->empty()) {
      kt.add(o.y, b_out, o.y, o.w.view.rows);
      b_out += o.w.view.rows;
    }
  // Further terms (several adapters): term k of every linear per job, as two terms of one
  // linear would accumulate into the same y, which one round must not do.
  for (size_t k = 1;; ++k) {
    calls.clear();
    tmp = s.group_tmp_.data();
    for (const Out& o : outs)
      if (const auto* terms = terms_of(o.w))
        for (size_t j = 0; j < terms->size(); ++j) {
          const LoraTerm& t = (*terms)[j];
          if (j == k) {
            kt.scale(tmp, t.scale, tmp, t.a.rows);
            calls.push_back({t.b, tmp, o.y, true});
          }
          tmp += t.a.rows;
        }
    if (calls.empty()) break;
    matmul_group(kt, calls, ctx);
  }
  for (const Out& o : outs)
    if (o.bias && o.bias->present()) kt.add_rows(o.y, o.bias->f32, n_tok, o.w.view.rows);
}

void ForwardRun::embed(std::span<const int32_t> tokens, float* x) {
  const int64_t T = static_cast<int64_t>(tokens.size());
  // An interleaved tied head is read back row by row: its file pages were released at load,
  // and touching them again would map whole folios of the file back in.
  if (const MatrixView& k = m.weights().token_embd.kernel_view(); is_interleaved(k.type)) {
    for (int64_t t = 0; t < T; ++t) {
      deinterleave_row(k, tokens[t], s.embed_row_.data());
      dequantize_row(stored_type(k.type), s.embed_row_.data(), x + t * hp.n_embd, hp.n_embd);
    }
  } else {
    const MatrixView& e = m.weights().token_embd.view;
    const size_t stride = *row_bytes(e.type, e.cols);
    for (int64_t t = 0; t < T; ++t)
      dequantize_row(e.type, e.data + static_cast<size_t>(tokens[t]) * stride, x + t * hp.n_embd, hp.n_embd);
  }
  // Embedding LoRA: gather each token's r-vector from A, scale, then x += B·a.
  for (const EmbeddingLoraTerm& term : ad.embedding) {
    const int64_t r = term.a.cols;
    const size_t a_stride = *row_bytes(term.a.type, r);
    float* tmp = s.lora_tmp_.data();
    for (int64_t t = 0; t < T; ++t)
      dequantize_row(term.a.type, term.a.data + static_cast<size_t>(tokens[t]) * a_stride, tmp + t * r, r);
    kt.scale(tmp, term.scale, tmp, T * r);
    kt.matmul(term.b, tmp, x, T, /*accumulate=*/true, ctx);
  }
}

void ForwardRun::store_kv(int64_t layer, const float* k, const float* v) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    kt.store_row(k + t * hp.k_dim(), kv.k_row(layer, pos0 + t), kv.type(), hp.k_dim());
    kt.store_row(v + t * hp.v_dim(), kv.v_row(layer, pos0 + t), kv.type(), hp.v_dim());
  }
}

void ForwardRun::attend(int64_t layer, const float* q, float* out) {
  AttentionArgs a;
  a.q = q;
  a.k = kv.k_rows(layer);
  a.v = kv.v_rows(layer);
  a.kv_type = kv.type();
  a.out = out;
  a.n_tokens = n_tokens;
  a.n_head = hp.n_head;
  a.n_head_kv = hp.n_head_kv;
  a.head_dim_k = hp.head_dim_k;
  a.head_dim_v = hp.head_dim_v;
  a.pos0 = pos0;
  a.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hp.head_dim_k)));
  kt.attention(a, ctx);
}

namespace {

void validate_request(const Model& m, const KVCache& kv, const ForwardScratch& s, const ForwardRequest& req) {
  const HParams& hp = m.hparams();
  const auto T = static_cast<int64_t>(req.tokens.size());
  if (T == 0) throw Error("forward: empty batch", "forward");
  if (T > s.n_batch())
    throw Error("forward: batch of " + std::to_string(T) + " tokens exceeds the session batch size " +
                    std::to_string(s.n_batch()),
                "forward");
  if (req.pos0 < 0 || req.pos0 + T > kv.n_ctx() || req.pos0 + T > s.n_ctx())
    throw Error("forward: positions " + std::to_string(req.pos0) + ".." + std::to_string(req.pos0 + T - 1) +
                    " exceed the context of " + std::to_string(kv.n_ctx()) + " tokens",
                "forward", "use a larger context or a shorter input");
  if (hp.arch == Arch::Gpt2 && req.pos0 + T > hp.n_ctx_train)
    throw Error("forward: position " + std::to_string(req.pos0 + T - 1) + " is past GPT-2's position table (" +
                    std::to_string(hp.n_ctx_train) + " rows)",
                "forward", "GPT-2 cannot attend beyond its trained context");
  for (int64_t t = 0; t < T; ++t)
    if (req.tokens[t] < 0 || req.tokens[t] >= hp.n_vocab)
      throw Error("forward: token id " + std::to_string(req.tokens[t]) + " at batch index " + std::to_string(t) +
                      " is outside the vocabulary [0, " + std::to_string(hp.n_vocab) + ")",
                  "forward");
  for (const HiddenTap& tap : req.taps)
    if (tap.layer < 0 || tap.layer >= hp.n_layer || tap.first < 0 || tap.count < 0 || tap.first + tap.count > T ||
        (tap.count > 0 && !tap.dst))
      throw Error("forward: hidden-state tap (layer " + std::to_string(tap.layer) + ", tokens " +
                      std::to_string(tap.first) + "+" + std::to_string(tap.count) + ") is out of range",
                  "forward");
}

}  // namespace

void forward(const Model& m, const AdapterBinding& adapters, KVCache& kv, ForwardScratch& s,
             const ForwardRequest& req) {
  validate_request(m, kv, s, req);
  if (adapters.max_rank() * s.n_batch() > static_cast<int64_t>(s.lora_tmp_.size()))
    throw Error("forward: adapters were not reserved in the scratch", "forward",
                "call ForwardScratch::reserve() after changing adapters");
  const HParams& hp = m.hparams();
  const auto T = static_cast<int64_t>(req.tokens.size());
  ForwardRun r(m, adapters, kv, s, T, req.pos0);
  float* x = r.x();  // residual stream [T, n_embd]

  r.embed(req.tokens, x);
  for (int64_t t = 0; t < T; ++t) s.pos_[t] = static_cast<int32_t>(req.pos0 + t);
  if (hp.arch == Arch::Gpt2) {
    const MatrixView& pe = m.weights().position_embd.view;
    const size_t stride = *row_bytes(pe.type, pe.cols);
    float* row = r.cur();
    for (int64_t t = 0; t < T; ++t) {
      dequantize_row(pe.type, pe.data + static_cast<size_t>(s.pos_[t]) * stride, row, hp.n_embd);
      r.kt.add(x + t * hp.n_embd, row, x + t * hp.n_embd, hp.n_embd);
    }
  } else {
    rope_tables(s.pos_.data(), T, hp.head_dim_k, hp.rope_theta, s.rope_cos_.data(), s.rope_sin_.data());
  }

  for (int64_t l = 0; l < hp.n_layer; ++l) {
    if (is_llama_family(hp.arch))
      llama_family_layer(r, l);
    else
      gpt2_layer(r, l);
    for (const HiddenTap& tap : req.taps)
      if (tap.layer == l && tap.count > 0)
        std::memcpy(tap.dst, x + tap.first * hp.n_embd, static_cast<size_t>(tap.count * hp.n_embd) * sizeof(float));
  }

  if (!req.logits) return;
  // Output head on the rows asked for: final norm, then the projection.
  const int64_t first = req.logits_all ? 0 : T - 1;
  const int64_t n_rows = T - first;
  const ModelWeights& w = m.weights();
  float* h = r.cur();
  if (is_llama_family(hp.arch))
    r.kt.rmsnorm(x + first * hp.n_embd, w.output_norm.f32, h, n_rows, hp.n_embd, static_cast<float>(hp.norm_eps));
  else
    r.kt.layernorm(x + first * hp.n_embd, w.output_norm.f32, w.output_norm_b.f32, h, n_rows, hp.n_embd,
                   static_cast<float>(hp.norm_eps));
  if (w.output.present())
    r.linear(w.output, h, req.logits, n_rows);
  else
    r.kt.matmul(w.token_embd.kernel_view(), h, req.logits, n_rows, /*accumulate=*/false, r.ctx);
}

}  // namespace paw
