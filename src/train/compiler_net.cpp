// The compiler network in libtorch (see paw/train/compiler_net.hpp) and its GGUF file.
#include "paw/train/compiler_net.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "paw/compiler/format.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/train/gguf_io.hpp"
#include "paw/train/mixed_precision.hpp"
#include "paw/util/error.hpp"
#include "train/dequantize_into.hpp"

namespace paw::train {

using torch::Tensor;

namespace {

const TorchModelImpl& check_encoder(const TorchModel& e) {
  if (!e) throw Error("no encoder model", "compiler");
  if (e->hparams().arch != Arch::Qwen3)
    throw Error("the compiler's encoder must be a qwen3 model", "compiler encoder",
                "start the encoder from a Qwen3-architecture GGUF");
  return *e;
}

// Interpreter linears of layer 0 by short module name (n_in, n_out), checking that every
// layer has the same shapes (bases are shared across layers).
std::map<std::string, LinearSpec> module_shapes(const std::vector<LinearSpec>& lin) {
  std::map<std::string, LinearSpec> m;
  for (const LinearSpec& s : lin) {
    if (s.layer < 0) continue;
    auto [it, fresh] = m.emplace(s.kind, s);
    if (!fresh && (it->second.n_in != s.n_in || it->second.n_out != s.n_out))
      throw Error("module '" + s.kind + "' changes shape across layers", "compiler",
                  "shared bases need every layer's module to have one shape");
  }
  return m;
}

}  // namespace

CompilerNetImpl::CompilerNetImpl(TorchModel source, int64_t n_tokenizer, const TorchModelImpl& interp,
                                 CompilerConfig cfg, uint64_t seed)
    : cfg_(std::move(cfg)) {
  const TorchModelImpl& src = check_encoder(source);
  if (n_tokenizer > src.hparams().n_vocab)
    throw Error("the tokenizer is larger than the encoder's embedding table", "compiler encoder");
  cfg_.modules = compiler::sorted_modules(cfg_.modules);
  ModelConfig ec = src.config();
  prefix_first_ = ec.hp.n_vocab;
  ec.hp.n_vocab += cfg_.prefix_tokens;
  encoder_ = register_module("encoder", TorchModel(ec));
  {
    torch::NoGradGuard ng;
    const auto from = src.gguf_tensors();
    for (auto& kv : encoder_->named_parameters()) {
      const Tensor& s = from.at(kv.key());
      if (kv.key() == "token_embd.weight") {
        Tensor& dst = kv.value();
        dst.narrow(0, 0, prefix_first_).copy_(s);
        // Prefix rows: the mean embedding plus a little noise, so they start as ordinary tokens.
        auto gen = at::detail::createCPUGenerator(seed);
        const Tensor noise = at::normal(0.0, 0.02, {cfg_.prefix_tokens, ec.hp.n_embd}, gen);
        dst.narrow(0, prefix_first_, cfg_.prefix_tokens).copy_(s.mean(0, true).expand_as(noise) + noise);
      } else {
        kv.value().copy_(s);
      }
    }
  }
  layers_ = compiler::depth_ratio_layers(interp.hparams().n_layer, ec.hp.n_layer);
  n_interp_layers_ = interp.hparams().n_layer;
  build_head(interp.linears());

  torch::NoGradGuard ng;
  auto gen = at::detail::createCPUGenerator(seed + 1);
  const int64_t d = ec.hp.n_embd, H = fc1_w_.size(0);
  fc1_w_.copy_(at::rand(fc1_w_.sizes(), gen) * (2.0 / std::sqrt(double(d))) - 1.0 / std::sqrt(double(d)));
  fc1_b_.zero_();
  fc2_w_.copy_(at::normal(0.0, 0.1 / std::sqrt(double(H)), fc2_w_.sizes(), gen));
  fc2_b_.copy_(at::normal(0.0, cfg_.coef_init / std::sqrt(double(cfg_.n_bases)), fc2_b_.sizes(), gen));
  if (cfg_.coef_activation == compiler::CoefActivation::Softmax) fc2_b_.zero_();  // no basis preferred a priori
  for (ModuleBases& mb : bases_) {
    const double bound = 1.0 / std::sqrt(double(mb.n_in));
    mb.a.copy_(at::rand(mb.a.sizes(), gen) * (2 * bound) - bound);
    mb.b.zero_();  // every program starts as "no change"
  }
  if (cfg_.pointer_rank > 0) {
    // Slots are pools of RMS-normalised states: queries of std pointer_query_std give
    // attention logits of about that spread across positions. The maps are read divided by d
    // (adapters()), so that one optimizer step moves an A or B entry about as far as it moves a
    // plain LoRA's (an unscaled map sums d coherent updates: ~100x at d = 128, and training
    // diverged at once). A rows of the usual LoRA scale 1/sqrt(n_in) then need maps of std
    // sqrt(d / n_in).
    ptr_q_.copy_(at::normal(0.0, cfg_.pointer_query_std, ptr_q_.sizes(), gen));
    for (PointerMaps& pm : ptr_) {
      pm.a.copy_(at::normal(0.0, std::sqrt(double(d) / double(pm.a.size(1))), pm.a.sizes(), gen));
      pm.b.zero_();
    }
  }
}

CompilerNetImpl::CompilerNetImpl(const ModelConfig& encoder_cfg, int64_t prefix_first_id, std::vector<int64_t> layers,
                                 const std::vector<LinearSpec>& interp_linears, int64_t interp_layers,
                                 CompilerConfig cfg)
    : cfg_(std::move(cfg)), prefix_first_(prefix_first_id), layers_(std::move(layers)) {
  cfg_.modules = compiler::sorted_modules(cfg_.modules);
  encoder_ = register_module("encoder", TorchModel(encoder_cfg));
  n_interp_layers_ = interp_layers;
  build_head(interp_linears);
}

void CompilerNetImpl::build_head(const std::vector<LinearSpec>& interp_linears) {
  const int64_t d = encoder_->hparams().n_embd;
  const int64_t H = cfg_.mapper_hidden > 0 ? cfg_.mapper_hidden : d;
  cfg_.mapper_hidden = H;
  if (cfg_.n_experts > 0) {
    if (cfg_.coef_activation != compiler::CoefActivation::Softmax)
      throw Error("experts routing needs softmax coefficients", "compiler config", "set coef_activation to \"softmax\"");
    cfg_.n_bases = n_interp_layers_ * cfg_.n_experts;
  }
  if (cfg_.rank <= 0 || cfg_.n_bases <= 0 || cfg_.prefix_tokens <= 0)
    throw Error("rank, n_bases and prefix_tokens must be positive", "compiler config");
  for (const int64_t l : layers_)
    if (l < 0 || l >= encoder_->hparams().n_layer) throw Error("encoder layer out of range", "compiler config");
  const auto shapes = module_shapes(interp_linears);
  for (const std::string& m : cfg_.modules) {
    const auto it = shapes.find(m);
    if (it == shapes.end())
      throw Error("the interpreter has no module '" + m + "'", "compiler config", "use q k v o gate up down for qwen3");
    ModuleBases mb;
    mb.kind = m;
    mb.n_in = it->second.n_in;
    mb.n_out = it->second.n_out;
    mb.a = register_parameter("bases_" + m + "_a", torch::zeros({cfg_.n_bases, cfg_.rank, mb.n_in}));
    mb.b = register_parameter("bases_" + m + "_b", torch::zeros({cfg_.n_bases, mb.n_out, cfg_.rank}));
    bases_.push_back(mb);
  }
  if (cfg_.pointer_rank < 0) throw Error("pointer_rank must be 0 or more", "compiler config");
  if (cfg_.pointer_rank > 0) {
    ptr_q_ = register_parameter("ptr_q", torch::zeros({cfg_.pointer_rank, d}));
    for (const ModuleBases& mb : bases_) {
      PointerMaps pm;
      pm.a = register_parameter("ptr_" + mb.kind + "_a", torch::zeros({n_interp_layers_, mb.n_in, d}));
      pm.b = register_parameter("ptr_" + mb.kind + "_b", torch::zeros({n_interp_layers_, mb.n_out, d}));
      ptr_.push_back(pm);
    }
  }
  fc1_w_ = register_parameter("fc1_w", torch::zeros({H, d}));
  fc1_b_ = register_parameter("fc1_b", torch::zeros({H}));
  const int64_t n_out = cfg_.n_experts > 0 ? cfg_.n_experts : n_coefficients();  // router or coefficients
  fc2_w_ = register_parameter("fc2_w", torch::zeros({n_out, H}));
  fc2_b_ = register_parameter("fc2_b", torch::zeros({n_out}));
  feat_mean_ = register_buffer("feat_mean", torch::zeros({d}));
  feat_scale_ = register_buffer("feat_scale", torch::ones({d}));
}

int64_t CompilerNetImpl::n_coefficients() const {
  return n_interp_layers_ * static_cast<int64_t>(cfg_.modules.size()) * cfg_.n_bases * 2;
}

Tensor CompilerNetImpl::pooled(const Tensor& tokens, const Tensor& ends) {
  return pool_prefix(encoder_->forward_hidden(tokens, layers_), ends);
}

Tensor CompilerNetImpl::pool_prefix(const std::vector<Tensor>& taps, const Tensor& ends) const {
  const int64_t S = ends.size(0), K = cfg_.prefix_tokens;
  const Tensor pos = ends.to(torch::kLong).unsqueeze(1) - K +
                     torch::arange(K, torch::TensorOptions().dtype(torch::kLong).device(ends.device()));  // [S, K]
  Tensor sum;
  for (const Tensor& h : taps) {
    const Tensor hf = at_least_float(h);
    const Tensor g = hf.gather(1, pos.unsqueeze(-1).expand({S, K, hf.size(-1)}));  // [S, K, d]
    const Tensor s = g.sum(1);                                                      // [S, d]
    sum = sum.defined() ? sum + s : s;
  }
  return sum / static_cast<double>(K * static_cast<int64_t>(taps.size()));  // [S, d]
}

Tensor CompilerNetImpl::pointer_slots(const std::vector<Tensor>& taps, const Tensor& ends) const {
  Tensor h;
  for (const Tensor& t : taps) h = h.defined() ? h + at_least_float(t) : at_least_float(t);
  h = h / static_cast<double>(taps.size());                   // [S, T, d]
  h = h * torch::rsqrt(h.pow(2).mean(-1, true) + 1e-6);       // RMS 1 per position
  const int64_t T = h.size(1), d = h.size(2);
  const Tensor idx = torch::arange(T, torch::TensorOptions().dtype(torch::kLong).device(h.device()));
  const Tensor valid = idx.unsqueeze(0) < ends.to(torch::kLong).unsqueeze(1);               // [S, T]
  Tensor scores = torch::einsum("std,rd->srt", {h, at_least_float(ptr_q_)}) / std::sqrt(double(d));  // [S, R, T]
  scores = scores.masked_fill(valid.logical_not().unsqueeze(1), -std::numeric_limits<float>::infinity());
  Tensor slots = torch::einsum("srt,std->srd", {torch::softmax(scores, -1), h});  // [S, R, d]
  if (cfg_.pointer_centered) {
    const Tensor m = valid.to(h.scalar_type()).unsqueeze(-1);                          // [S, T, 1]
    slots = slots - ((h * m).sum(1) / m.sum(1).clamp_min(1.0)).unsqueeze(1);          // minus the spec's mean state
  }
  return slots;
}

namespace {
// Coefficients from mapper outputs [S, n_coef] (layout [S, L, M, NB, 2]).
Tensor activate(const Tensor& out, compiler::CoefActivation a, int64_t n_bases) {
  if (a == compiler::CoefActivation::Linear) return out;
  const int64_t S = out.size(0);
  return torch::softmax(out.view({S, -1, n_bases, 2}), 2).view({S, -1});  // over the bases of each group
}
}  // namespace

Tensor CompilerNetImpl::mapper_outputs(const Tensor& tokens, const Tensor& ends, Tensor* slots) {
  const std::vector<Tensor> taps = encoder_->forward_hidden(tokens, layers_);  // each [S, T, d]
  if (slots) *slots = cfg_.pointer_rank > 0 ? pointer_slots(taps, ends) : Tensor();
  const Tensor x = (pool_prefix(taps, ends) - feat_mean_) * feat_scale_;  // [S, d]
  const Tensor h = torch::gelu(torch::addmm(fc1_b_, x, fc1_w_.t()));    // [S, H] (erf GELU)
  return torch::addmm(fc2_b_, h, fc2_w_.t());                           // [S, n_coef] or [S, E]
}

Tensor CompilerNetImpl::coefficients_of(const Tensor& out) const {
  if (cfg_.n_experts <= 0) return activate(out, cfg_.coef_activation, cfg_.n_bases);
  // Experts: c[s, l, m, l*E + e, ab] = w[s, e]; 0 for the other layers' bases.
  const int64_t S = out.size(0), L = n_interp_layers_, M = static_cast<int64_t>(bases_.size()), E = cfg_.n_experts;
  const Tensor w = torch::softmax(out, 1);                                               // [S, E]
  const Tensor eye = torch::eye(L, w.options().dtype(torch::kFloat)).to(w.scalar_type());  // [L, L]
  const Tensor c = eye.view({1, L, 1, L, 1, 1}) * w.view({S, 1, 1, 1, E, 1});            // [S, L, 1, L, E, 1]
  return c.expand({S, L, M, L, E, 2}).reshape({S, n_coefficients()});
}

Tensor CompilerNetImpl::coefficients(const Tensor& tokens, const Tensor& ends) {
  return coefficients_of(mapper_outputs(tokens, ends));
}

void CompilerNetImpl::init_experts(const std::map<std::string, LoraWeights>& program) {
  if (cfg_.n_experts <= 0) throw Error("init_experts needs experts routing", "compiler net");
  for (int64_t e = 0; e < cfg_.n_experts; ++e) init_expert(e, program);
}

void CompilerNetImpl::init_expert(int64_t e, const std::map<std::string, LoraWeights>& program) {
  if (cfg_.n_experts <= 0) throw Error("init_expert needs experts routing", "compiler net");
  if (e < 0 || e >= cfg_.n_experts) throw Error("expert index out of range", "compiler init");
  torch::NoGradGuard ng;
  const int64_t E = cfg_.n_experts;
  for (ModuleBases& mb : bases_) {
    for (int64_t l = 0; l < n_interp_layers_; ++l) {
      const std::string name = "blk." + std::to_string(l) + "." + target_tensor(mb.kind) + ".weight";
      const auto it = program.find(name);
      if (it == program.end()) throw Error("the starting program has no adapter for '" + name + "'", "compiler init");
      const LoraWeights& w = it->second;
      if (w.rank != cfg_.rank || w.n_in != mb.n_in || w.n_out != mb.n_out)
        throw Error("the starting program's '" + name + "' has another shape", "compiler init",
                    "start from a compiler with the same rank and interpreter");
      mb.a[l * E + e].copy_(torch::tensor(w.a).view({w.rank, w.n_in}));   // [r, n_in]
      mb.b[l * E + e].copy_(torch::tensor(w.b).view({w.n_out, w.rank}));  // [n_out, r]
    }
  }
}

void CompilerNetImpl::freeze_bases() {
  for (ModuleBases& mb : bases_) {
    mb.a.set_requires_grad(false);
    mb.b.set_requires_grad(false);
  }
}

double CompilerNetImpl::calibrate_router(const Tensor& pooled) {
  if (cfg_.coef_activation != compiler::CoefActivation::Softmax) return 0.0;
  torch::NoGradGuard ng;
  const Tensor x = (pooled.detach().to(feat_mean_.device(), torch::kFloat) - feat_mean_) * feat_scale_;  // [N, d]
  const Tensor h = torch::gelu(torch::addmm(fc1_b_, x, fc1_w_.t()));                                       // [N, H]
  const Tensor logits = torch::addmm(fc2_b_, h, fc2_w_.t());                                               // [N, n_coef]
  const double spread = logits.std(0, /*unbiased=*/false).mean().item<double>();
  if (spread > 1e-6) fc2_w_.mul_(cfg_.router_logit_std / spread);
  return spread;
}

Tensor CompilerNetImpl::balance_penalty(const Tensor& c) const {
  const int64_t S = c.size(0), NB = cfg_.n_bases;
  if (cfg_.n_experts > 0) {  // one routing per spec: layer 0, first module, A's expert block
    const Tensor w = c.view({S, n_interp_layers_, -1, NB, 2}).select(1, 0).select(1, 0).narrow(1, 0, cfg_.n_experts)
                         .select(-1, 0);                                   // [S, E]
    return w.mean(0).pow(2).sum() * static_cast<double>(cfg_.n_experts) - 1.0;
  }
  const Tensor usage = c.view({S, -1, NB, 2}).mean(0);  // [groups, NB, 2]: each group's mean routing
  return usage.pow(2).sum(1).mean() * static_cast<double>(NB) - 1.0;
}

void CompilerNetImpl::set_feature_standardisation(const Tensor& pooled) {
  if (pooled.dim() != 2 || pooled.size(0) < 2 || pooled.size(1) != feat_mean_.size(0))
    throw Error("feature standardisation needs pooled features [N >= 2, d]", "compiler net");
  torch::NoGradGuard ng;
  const Tensor p = pooled.detach().to(feat_mean_.device(), torch::kDouble);
  const Tensor mean = p.mean(0);                              // [d]
  const Tensor std = p.std(0, /*unbiased=*/false);            // [d]
  // eps relative to the features' typical spread, so a feature that never varies is not blown up.
  const double eps = 1e-3 * std::max(std.mean().item<double>(), 1e-12);
  feat_mean_.copy_(mean);
  feat_scale_.copy_(1.0 / (std + eps));
}

LoraSet CompilerNetImpl::adapters(const Tensor& c, const Tensor& slots) const {
  const int64_t S = c.size(0), L = n_interp_layers_, M = static_cast<int64_t>(bases_.size()), NB = cfg_.n_bases;
  const Tensor cv = c.view({S, L, M, NB, 2});
  const bool pointer = slots.defined() && cfg_.pointer_rank > 0;
  if (pointer && (slots.dim() != 3 || slots.size(0) != S || slots.size(1) != cfg_.pointer_rank))
    throw Error("pointer slots must be [specs, pointer_rank, d]", "compiler net");
  // The bases' B grows by (r + R) / r: the set is read at alpha / (r + R), their product at alpha / r.
  const double base_gain = pointer ? double(cfg_.rank + cfg_.pointer_rank) / double(cfg_.rank) : 1.0;
  LoraSet set;
  set.alpha = cfg_.alpha;
  for (int64_t mi = 0; mi < M; ++mi) {
    const ModuleBases& mb = bases_[static_cast<size_t>(mi)];
    const Tensor ca = cv.select(2, mi).select(-1, 0);  // [S, L, NB]
    const Tensor cb = cv.select(2, mi).select(-1, 1);
    Tensor A = torch::einsum("slb,bri->slri", {ca, mb.a});  // [S, L, r, n_in]
    Tensor B = torch::einsum("slb,bor->slor", {cb, mb.b});  // [S, L, n_out, r]
    if (pointer) {
      const PointerMaps& pm = ptr_[static_cast<size_t>(mi)];
      const Tensor sl = slots.to(A.scalar_type()) / static_cast<double>(slots.size(2));  // maps read / d
      A = torch::cat({A, torch::einsum("srd,lid->slri", {sl, pm.a.to(A.scalar_type())})}, 2);   // [S, L, r+R, n_in]
      B = torch::cat({B * base_gain, torch::einsum("srd,lod->slor", {sl, pm.b.to(B.scalar_type())})}, 3);  // [S, L, n_out, r+R]
    }
    const std::string tensor = target_tensor(mb.kind);
    for (int64_t l = 0; l < L; ++l)
      set.pairs["blk." + std::to_string(l) + "." + tensor + ".weight"] = {A.select(1, l), B.select(1, l)};
  }
  return set;
}

std::map<std::string, Tensor> CompilerNetImpl::head_tensors() const {
  std::map<std::string, Tensor> m;
  m["mapper.fc1.weight"] = fc1_w_;
  m["mapper.fc1.bias"] = fc1_b_;
  m["mapper.fc2.weight"] = fc2_w_;
  m["mapper.fc2.bias"] = fc2_b_;
  for (const ModuleBases& mb : bases_) {
    m["compiler.bases." + mb.kind + ".a"] = mb.a.reshape({cfg_.n_bases * cfg_.rank, mb.n_in});
    m["compiler.bases." + mb.kind + ".b"] = mb.b.reshape({cfg_.n_bases * mb.n_out, cfg_.rank});
  }
  return m;
}

std::map<std::string, Tensor> CompilerNetImpl::export_tensors() const {
  torch::NoGradGuard ng;
  std::map<std::string, Tensor> m = head_tensors();
  const Tensor w = fc1_w_.detach().to(torch::kDouble), s = feat_scale_.to(torch::kDouble);
  const Tensor ws = w * s.unsqueeze(0);                                                  // [H, d]
  m["mapper.fc1.weight"] = ws.to(torch::kFloat);
  m["mapper.fc1.bias"] = (fc1_b_.detach().to(torch::kDouble) - ws.matmul(feat_mean_.to(torch::kDouble)))
                             .to(torch::kFloat);                                         // [H]
  if (cfg_.n_experts > 0) {
    // The router as a plain softmax compiler: row (l, m, b, ab) is router row b - l*E inside
    // layer l's block, else weight 0 and bias kOffBlockLogit.
    const int64_t L = n_interp_layers_, M = static_cast<int64_t>(bases_.size()), E = cfg_.n_experts,
                  H = fc2_w_.size(1);
    const Tensor rw = fc2_w_.detach().to(torch::kFloat), rb = fc2_b_.detach().to(torch::kFloat);
    Tensor w = torch::zeros({L, M, L, E, 2, H});
    Tensor b = torch::full({L, M, L, E, 2}, kOffBlockLogit);
    for (int64_t l = 0; l < L; ++l) {
      w.select(0, l).select(1, l).copy_(rw.view({1, E, 1, H}).expand({M, E, 2, H}));
      b.select(0, l).select(1, l).copy_(rb.view({1, E, 1}).expand({M, E, 2}));
    }
    m["mapper.fc2.weight"] = w.reshape({n_coefficients(), H});
    m["mapper.fc2.bias"] = b.reshape({n_coefficients()});
  }
  return m;
}

void export_compiler_gguf(const CompilerNetImpl& net, const Tokenizer& tok, const InterpreterPin& pin,
                          const TorchModelImpl& interp, const std::string& name, const std::string& path) {
  if (net.config().pointer_rank > 0)
    throw Error("a compiler with the pointer channel has no file format yet", path,
                "leave export out of the recipe; its checkpoint and eval log are the result");
  namespace k = compiler::key;
  ExportOptions eo;
  eo.type = DType::F32;
  eo.tokenizer = &tok;
  eo.name = name;
  GGUFWriter w = make_gguf_writer(*net.encoder(), path, eo);
  const CompilerConfig& c = net.config();
  auto u32 = [](int64_t v) { return GGUFValue::u32(static_cast<uint32_t>(v)); };
  w.set("general.type", GGUFValue::string(compiler::kGeneralType));
  w.set(k::version, GGUFValue::u32(compiler::kFormatVersion));
  w.set(k::name, GGUFValue::string(name));
  w.set(k::prefix_tokens, u32(c.prefix_tokens));
  w.set(k::prefix_first_id, u32(net.prefix_first_id()));
  std::vector<int32_t> layers(net.layers().begin(), net.layers().end());
  w.set(k::encoder_layers, GGUFValue::i32_array(layers));
  w.set(k::mapper_hidden, u32(c.mapper_hidden));
  w.set(k::n_bases, u32(c.n_bases));
  w.set(k::lora_rank, u32(c.rank));
  w.set(k::lora_alpha, GGUFValue::f32(static_cast<float>(c.alpha)));
  w.set(k::lora_modules, GGUFValue::string_array(c.modules));
  w.set(k::spec_conditioned, GGUFValue::boolean(c.spec_conditioned));
  w.set(k::coef_activation, GGUFValue::string(compiler::coef_activation_name(c.coef_activation)));
  if (!c.expert_names.empty()) {
    // Trained experts (n_experts) or a read-back export (a softmax compiler of L * E bases).
    const int64_t E = static_cast<int64_t>(c.expert_names.size());
    if (c.n_experts > 0 ? E != c.n_experts : c.n_bases != net.n_interp_layers() * E)
      throw Error("one expert name per expert", path, std::to_string(E) + " names for " + std::to_string(c.n_bases) +
                                                          " bases over " + std::to_string(net.n_interp_layers()) + " layers");
    w.set(k::experts, GGUFValue::string_array(c.expert_names));
  }
  w.set(k::program_template, GGUFValue::string(compiler::prompted_template()));
  w.set(k::adapter_type, GGUFValue::string("q4_0"));
  w.set(k::interp_name, GGUFValue::string(pin.name));
  w.set(k::interp_sha256, GGUFValue::string(pin.sha256));
  w.set(k::interp_size, GGUFValue::u64(pin.size));
  w.set(k::interp_arch, GGUFValue::string(std::string(arch_name(interp.hparams().arch))));
  w.set(k::interp_n_layer, u32(interp.hparams().n_layer));
  w.set(k::interp_n_embd, u32(interp.hparams().n_embd));
  w.set(k::interp_n_vocab, u32(interp.hparams().n_vocab));
  for (const auto& [tname, t] : net.export_tensors()) {
    const Tensor f = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
    std::vector<int64_t> ne(f.sizes().rbegin(), f.sizes().rend());
    w.add_tensor_f32(tname, DType::F32, ne, f.data_ptr<float>());
  }
  w.write(path);
}

CompilerNet load_compiler_gguf(const std::string& path) {
  namespace k = compiler::key;
  const GGUFFile f = GGUFFile::open(path);
  if (f.get_string_or("general.type", "") != compiler::kGeneralType)
    throw Error("not a compiler file (general.type is not \"compiler\")", path,
                "pass a compiler GGUF such as models/trained/C.gguf");
  CompilerConfig c;
  c.prefix_tokens = static_cast<int64_t>(f.get_u64(k::prefix_tokens));
  c.n_bases = static_cast<int64_t>(f.get_u64(k::n_bases));
  c.rank = static_cast<int64_t>(f.get_u64(k::lora_rank));
  c.alpha = f.get_f64(k::lora_alpha);
  c.mapper_hidden = static_cast<int64_t>(f.get_u64(k::mapper_hidden));
  c.modules = f.get(k::lora_modules).as_string_array();
  c.spec_conditioned = f.get(k::spec_conditioned).as_bool();
  if (f.get_u64(k::version) >= 2) c.coef_activation = compiler::parse_coef_activation(f.get_string(k::coef_activation), path);
  // An experts compiler reads back as the plain softmax compiler its export is (its router
  // rows repeated per layer block); the names are kept for a re-export.
  if (const GGUFValue* e = f.find(k::experts)) c.expert_names = e->as_string_array();
  const std::vector<int64_t> layers = f.get(k::encoder_layers).as_int_array();
  const ModelConfig ec = config_from_gguf(f);
  // The interpreter's linears, rebuilt from the bases' shapes (the interpreter file is not needed).
  const int64_t L = static_cast<int64_t>(f.get_u64(k::interp_n_layer));
  std::vector<LinearSpec> lin;
  for (const std::string& m : c.modules) {
    const GGUFTensorInfo* a = f.find_tensor("compiler.bases." + m + ".a");
    const GGUFTensorInfo* b = f.find_tensor("compiler.bases." + m + ".b");
    if (!a || !b || a->ne.size() != 2 || b->ne.size() != 2 || b->ne[1] % c.n_bases != 0)
      throw Error("bases of module '" + m + "' are missing or misshapen", path);
    for (int64_t l = 0; l < L; ++l) lin.push_back({"", m, l, a->ne[0], b->ne[1] / c.n_bases});
  }
  CompilerNet net(ec, static_cast<int64_t>(f.get_u64(k::prefix_first_id)), layers, lin, L, c);
  load_gguf_weights(*net->encoder(), f);
  torch::NoGradGuard ng;
  for (auto& [tname, t] : net->head_tensors()) {
    const GGUFTensorInfo* ti = f.find_tensor(tname);
    std::vector<int64_t> want(t.sizes().rbegin(), t.sizes().rend());
    if (!ti || ti->ne != want) throw Error("tensor '" + tname + "' is missing or misshapen", path);
    Tensor view = t;  // a view of the parameter (reshape of a contiguous tensor)
    dequantize_into(view, ti->type, ti->data, ti->rows(), ti->ne[0], tname, path);
  }
  return net;
}

}  // namespace paw::train
