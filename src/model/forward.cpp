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

ForwardRun::ForwardRun(const Model& model, const AdapterBinding& adapters, KVCache* cache, ForwardScratch& scratch,
                       int64_t n, int64_t p0, std::span<const SequenceChunk> chunks)
    : m(model), hp(model.hparams()), ad(adapters), kv(cache), s(scratch), kt(scratch.kernels()),
      ctx{scratch.n_threads(), scratch.ws_.get(), scratch.ws_bytes_}, n_tokens(n), pos0(p0), seqs(chunks) {}

void ForwardRun::linear(const WeightRef& w, const float* x, float* y, int64_t n_tok, const WeightRef* bias) {
  kt.matmul(w.kernel_view(), x, y, n_tok, /*accumulate=*/false, ctx);
  if (!seqs.empty())
    row_deltas({{w, y}}, x);
  else if (w.linear >= 0 && static_cast<size_t>(w.linear) < ad.per_linear.size())
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
  if (!seqs.empty()) {  // several sequences: base products over all rows, then each sequence's deltas
    for (const Out& o : outs) kt.matmul(o.w.kernel_view(), x, o.y, n_tok, /*accumulate=*/false, ctx);
    row_deltas(outs, x);
    for (const Out& o : outs)
      if (o.bias && o.bias->present()) kt.add_rows(o.y, o.bias->f32, n_tok, o.w.view.rows);
    return;
  }
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

void ForwardRun::row_deltas(std::initializer_list<Out> outs, const float* x) {
  // One-token chunks (decoding sequences): term k of every such sequence on every linear of
  // `outs` (they share x) per job — the A products (first round) and, once each is done, its
  // B product scaled and added to that sequence's row (second round): one fork/join per term
  // index for the whole group, however many sequences. Their A results sit side by side in
  // lora_tmp_ [kMaxGroupLinears][n_batch][rank], indexed by linear and token row.
  for (size_t k = 0;; ++k) {
    s.group_calls_.clear();
    s.group_then_.clear();
    int64_t tmp_base = 0;
    for (const Out& o : outs) {
      const WeightRef& w = o.w;
      if (w.linear < 0) continue;
      const auto li = static_cast<size_t>(w.linear);
      const int64_t n_in = w.view.cols, n_out = w.view.rows;
      for (size_t c = 0; c < seqs.size(); ++c) {
        const AdapterBinding* b = seqs[c].adapters;
        if (seqs[c].tokens.size() != 1 || !b || li >= b->per_linear.size() || k >= b->per_linear[li].size()) continue;
        const LoraTerm& t = b->per_linear[li][k];
        const int64_t row = s.seq_first_[c];
        float* tmp = s.lora_tmp_.data() + tmp_base + row * s.lora_rank_;  // [r]
        s.group_calls_.push_back({t.a, x + row * n_in, tmp, false});
        s.group_then_.push_back({t.b, tmp, o.y + row * n_out, true, t.scale});
      }
      tmp_base += n_tokens * s.lora_rank_;
    }
    if (s.group_calls_.empty()) break;
    matmul_group(kt, s.group_calls_, s.group_then_, ctx);
  }
  // Longer chunks (sequences joining with their prompt): each chunk's rows through the
  // prefill path of its own terms.
  for (size_t c = 0; c < seqs.size(); ++c) {
    const AdapterBinding* b = seqs[c].adapters;
    const auto len = static_cast<int64_t>(seqs[c].tokens.size());
    if (len == 1 || !b) continue;
    const int64_t first = s.seq_first_[c];
    for (const Out& o : outs) {
      if (o.w.linear < 0 || static_cast<size_t>(o.w.linear) >= b->per_linear.size()) continue;
      for (const LoraTerm& t : b->per_linear[static_cast<size_t>(o.w.linear)])
        lora_apply(kt, t.a, t.b, t.scale, x + first * o.w.view.cols, o.y + first * o.w.view.rows, len,
                   s.lora_tmp_.data(), ctx);
    }
  }
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
  const auto add_terms = [&](const std::vector<EmbeddingLoraTerm>& terms, const int32_t* toks, float* xs, int64_t n) {
    for (const EmbeddingLoraTerm& term : terms) {
      const int64_t r = term.a.cols;
      const size_t a_stride = *row_bytes(term.a.type, r);
      float* tmp = s.lora_tmp_.data();
      for (int64_t t = 0; t < n; ++t)
        dequantize_row(term.a.type, term.a.data + static_cast<size_t>(toks[t]) * a_stride, tmp + t * r, r);
      kt.scale(tmp, term.scale, tmp, n * r);
      kt.matmul(term.b, tmp, xs, n, /*accumulate=*/true, ctx);
    }
  };
  if (seqs.empty()) return add_terms(ad.embedding, tokens.data(), x, T);
  for (size_t c = 0; c < seqs.size(); ++c)  // several sequences: each chunk its own terms
    if (const AdapterBinding* b = seqs[c].adapters) {
      const int64_t first = s.seq_first_[c];
      add_terms(b->embedding, tokens.data() + first, x + first * hp.n_embd, static_cast<int64_t>(seqs[c].tokens.size()));
    }
}

void ForwardRun::store_kv(int64_t layer, const float* k, const float* v) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    KVCache& c = seqs.empty() ? *kv : *seqs[static_cast<size_t>(s.row_seq_[t])].kv;
    const int64_t pos = s.pos_[t];
    kt.store_row(k + t * hp.k_dim(), c.k_row(layer, pos), c.type(), hp.k_dim());
    kt.store_row(v + t * hp.v_dim(), c.v_row(layer, pos), c.type(), hp.v_dim());
  }
}

void ForwardRun::attend(int64_t layer, const float* q, float* out) {
  AttentionArgs a;
  a.n_head = hp.n_head;
  a.n_head_kv = hp.n_head_kv;
  a.head_dim_k = hp.head_dim_k;
  a.head_dim_v = hp.head_dim_v;
  a.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hp.head_dim_k)));
  const auto over = [&](const KVCache& c, const float* qs, float* os, int64_t n, int64_t p0) {
    a.q = qs;
    a.k = c.k_rows(layer);
    a.v = c.v_rows(layer);
    a.kv_type = c.type();
    a.out = os;
    a.n_tokens = n;
    a.pos0 = p0;
    kt.attention(a, ctx);
  };
  if (seqs.empty()) return over(*kv, q, out, n_tokens, pos0);
  for (size_t c = 0; c < seqs.size(); ++c) {  // several sequences: each chunk's queries against its own cache
    const SequenceChunk& sc = seqs[c];
    const int64_t first = s.seq_first_[c];
    over(*sc.kv, q + first * hp.q_dim(), out + first * hp.o_dim(), static_cast<int64_t>(sc.tokens.size()), sc.pos0);
  }
}

namespace {

// Rows of the request: its tokens, or its embedding rows.
int64_t request_rows(const HParams& hp, const ForwardRequest& req) {
  if (!req.tokens.empty() && !req.embeddings.empty())
    throw Error("forward: both tokens and embedding rows given", "forward", "give one of them per call");
  if (req.embeddings.empty()) return static_cast<int64_t>(req.tokens.size());
  if (req.embeddings.size() % static_cast<size_t>(hp.n_embd) != 0)
    throw Error("forward: " + std::to_string(req.embeddings.size()) + " embedding values are not whole rows of " +
                    std::to_string(hp.n_embd),
                "forward", "embedding rows are [n_rows, n_embd] floats");
  return static_cast<int64_t>(req.embeddings.size()) / hp.n_embd;
}

// What one sequence's rows must satisfy before anything is evaluated, for forward() and each
// chunk of forward_sequences(): n_rows rows at positions [pos0, pos0 + n_rows) inside the
// cache, the scratch and GPT-2's position table, and token ids inside the vocabulary. `who`
// opens the message ("forward", "forward_sequences sequence 2").
void check_rows(const HParams& hp, const KVCache& kv, const ForwardScratch& s, std::span<const int32_t> tokens,
                int64_t n_rows, int64_t pos0, const std::string& who) {
  if (pos0 < 0 || pos0 + n_rows > kv.n_ctx() || pos0 + n_rows > s.n_ctx())
    throw Error(who + ": positions " + std::to_string(pos0) + ".." + std::to_string(pos0 + n_rows - 1) +
                    " are outside the context of " + std::to_string(std::min(kv.n_ctx(), s.n_ctx())) + " tokens",
                "forward", "use a larger context or a shorter input");
  if (hp.arch == Arch::Gpt2 && pos0 + n_rows > hp.n_ctx_train)
    throw Error(who + ": position " + std::to_string(pos0 + n_rows - 1) + " is past GPT-2's position table (" +
                    std::to_string(hp.n_ctx_train) + " rows)",
                "forward", "GPT-2 cannot attend beyond its trained context");
  for (size_t t = 0; t < tokens.size(); ++t)
    if (tokens[t] < 0 || tokens[t] >= hp.n_vocab)
      throw Error(who + ": token id " + std::to_string(tokens[t]) + " at index " + std::to_string(t) +
                      " is outside the vocabulary [0, " + std::to_string(hp.n_vocab) + ")",
                  "forward");
}

void validate_request(const Model& m, const KVCache& kv, const ForwardScratch& s, const ForwardRequest& req) {
  const HParams& hp = m.hparams();
  const int64_t T = request_rows(hp, req);
  if (T == 0) throw Error("forward: empty batch", "forward");
  if (T > s.n_batch())
    throw Error("forward: batch of " + std::to_string(T) + " tokens exceeds the session batch size " +
                    std::to_string(s.n_batch()),
                "forward");
  check_rows(hp, kv, s, req.tokens, T, req.pos0, "forward");
  for (const HiddenTap& tap : req.taps)
    if (tap.layer < 0 || tap.layer >= hp.n_layer || tap.first < 0 || tap.count < 0 || tap.first + tap.count > T ||
        (tap.count > 0 && !tap.dst))
      throw Error("forward: hidden-state tap (layer " + std::to_string(tap.layer) + ", tokens " +
                      std::to_string(tap.first) + "+" + std::to_string(tap.count) + ") is out of range",
                  "forward");
}

}  // namespace

void ForwardRun::run(std::span<const int32_t> tokens, std::span<const HiddenTap> taps, float* logits, int64_t first,
                     std::span<const float> rows) {
  ForwardRun& r = *this;
  const auto T = rows.empty() ? static_cast<int64_t>(tokens.size()) : static_cast<int64_t>(rows.size()) / hp.n_embd;
  float* x = r.x();  // residual stream [T, n_embd]

  const ArchForward& arch = arch_forward(hp.arch);
  if (rows.empty())
    r.embed(tokens, x);
  else
    std::memcpy(x, rows.data(), rows.size() * sizeof(float));  // given input rows [T, n_embd]
  if (arch.learned_positions) {
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
    arch.block(r, l);
    for (const HiddenTap& tap : taps)
      if (tap.layer == l && tap.count > 0)
        std::memcpy(tap.dst, x + tap.first * hp.n_embd, static_cast<size_t>(tap.count * hp.n_embd) * sizeof(float));
  }

  if (!logits) return;
  // Output head on the rows asked for (one sequence: rows [first, T); several: the last row of
  // each chunk, gathered): final norm, then the projection.
  const ModelWeights& w = m.weights();
  float* h = r.cur();
  const float* in = x + first * hp.n_embd;
  int64_t n_rows = T - first;
  if (!seqs.empty()) {
    n_rows = static_cast<int64_t>(seqs.size());
    for (int64_t c = 0; c < n_rows; ++c)
      std::memcpy(h + c * hp.n_embd, x + (s.seq_first_[static_cast<size_t>(c) + 1] - 1) * hp.n_embd,
                  static_cast<size_t>(hp.n_embd) * sizeof(float));
    in = h;
  }
  if (arch.layer_norm)
    r.kt.layernorm(in, w.output_norm.f32, w.output_norm_b.f32, h, n_rows, hp.n_embd, static_cast<float>(hp.norm_eps));
  else
    r.kt.rmsnorm(in, w.output_norm.f32, h, n_rows, hp.n_embd, static_cast<float>(hp.norm_eps));
  if (!w.output.present()) return r.kt.matmul(w.token_embd.kernel_view(), h, logits, n_rows, /*accumulate=*/false, r.ctx);
  if (seqs.empty()) return r.linear(w.output, h, logits, n_rows);
  // Several sequences: row c of h is chunk c's, so its output terms apply to that row alone.
  r.kt.matmul(w.output.kernel_view(), h, logits, n_rows, /*accumulate=*/false, r.ctx);
  const int li = w.output.linear;
  for (int64_t c = 0; c < n_rows; ++c)
    if (const AdapterBinding* b = seqs[static_cast<size_t>(c)].adapters; b && li >= 0 && static_cast<size_t>(li) < b->per_linear.size())
      for (const LoraTerm& t : b->per_linear[static_cast<size_t>(li)])
        lora_apply(r.kt, t.a, t.b, t.scale, h + c * hp.n_embd, logits + c * hp.n_vocab, 1, s.lora_tmp_.data(), r.ctx);
}

namespace {

// rows_mode: forward_sequences keeps A results of up to kMaxGroupLinears linears per row.
void check_reserved(const AdapterBinding& b, const ForwardScratch& s, int64_t lora_tmp_size, bool rows_mode = false) {
  if (b.max_rank() * s.n_batch() * (rows_mode ? kMaxGroupLinears : 1) > lora_tmp_size)
    throw Error("forward: adapters were not reserved in the scratch", "forward",
                "call ForwardScratch::reserve() after changing adapters");
}

const AdapterBinding& no_adapters() {
  static const AdapterBinding none;
  return none;
}

}  // namespace

void forward(const Model& m, const AdapterBinding& adapters, KVCache& kv, ForwardScratch& s,
             const ForwardRequest& req) {
  validate_request(m, kv, s, req);
  check_reserved(adapters, s, static_cast<int64_t>(s.lora_tmp_.size()));
  const int64_t T = request_rows(m.hparams(), req);
  for (int64_t t = 0; t < T; ++t) s.pos_[t] = static_cast<int32_t>(req.pos0 + t);
  ForwardRun r(m, adapters, &kv, s, T, req.pos0);
  r.run(req.tokens, req.taps, req.logits, req.logits_all ? 0 : T - 1, req.embeddings);
}

void forward_sequences(const Model& m, std::span<const SequenceChunk> seqs, ForwardScratch& s, float* logits) {
  const HParams& hp = m.hparams();
  const auto N = static_cast<int64_t>(seqs.size());
  if (N == 0) throw Error("forward_sequences: no sequences", "forward");
  if (!logits) throw Error("forward_sequences: no logits buffer", "forward");
  int64_t T = 0;
  for (int64_t i = 0; i < N; ++i) {
    const SequenceChunk& sc = seqs[static_cast<size_t>(i)];
    const std::string at = "forward_sequences sequence " + std::to_string(i);
    const auto len = static_cast<int64_t>(sc.tokens.size());
    if (len == 0) throw Error(at + ": no tokens", "forward");
    T += len;
    if (!sc.kv) throw Error(at + ": no KV cache", "forward");
    if (sc.kv->n_layer() != hp.n_layer)
      throw Error(at + ": the KV cache has " + std::to_string(sc.kv->n_layer()) + " layers, the model " +
                      std::to_string(hp.n_layer),
                  "forward", "each sequence needs a cache made for this model");
    for (int64_t j = 0; j < i; ++j)
      if (seqs[static_cast<size_t>(j)].kv == sc.kv)
        throw Error(at + " shares its KV cache with sequence " + std::to_string(j), "forward",
                    "one chunk per sequence and step");
    check_rows(hp, *sc.kv, s, sc.tokens, len, sc.pos0, at);
    if (sc.adapters) check_reserved(*sc.adapters, s, static_cast<int64_t>(s.lora_tmp_.size()), true);
  }
  if (T > s.n_batch())
    throw Error("forward_sequences: " + std::to_string(T) + " tokens exceed the scratch's batch size " +
                    std::to_string(s.n_batch()),
                "forward", "size the scratch for the most tokens of one step, or split the chunks");
  if (N == 1) {  // one sequence: exactly its forward() (and its fused decode groups)
    const SequenceChunk& one = seqs[0];
    ForwardRequest req;
    req.tokens = one.tokens;
    req.pos0 = one.pos0;
    req.logits = logits;
    return forward(m, one.adapters ? *one.adapters : no_adapters(), *one.kv, s, req);
  }
  // Token rows side by side, chunk after chunk: row_tokens_ [T], pos_ [T], row_seq_ [T] (its
  // chunk), seq_first_ [N + 1] (each chunk's first row).
  int64_t t = 0;
  for (int64_t i = 0; i < N; ++i) {
    const SequenceChunk& sc = seqs[static_cast<size_t>(i)];
    s.seq_first_[static_cast<size_t>(i)] = t;
    for (size_t j = 0; j < sc.tokens.size(); ++j, ++t) {
      s.row_tokens_[static_cast<size_t>(t)] = sc.tokens[j];
      s.pos_[static_cast<size_t>(t)] = static_cast<int32_t>(sc.pos0 + static_cast<int64_t>(j));
      s.row_seq_[static_cast<size_t>(t)] = static_cast<int32_t>(i);
    }
  }
  s.seq_first_[static_cast<size_t>(N)] = T;
  ForwardRun r(m, no_adapters(), nullptr, s, T, 0, seqs);
  r.run(std::span<const int32_t>(s.row_tokens_.data(), static_cast<size_t>(T)), {}, logits, 0);
}

}  // namespace paw
