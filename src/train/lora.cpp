// LoRA targets, trainable adapters and adapter GGUF export (see paw/train/lora.hpp).
#include "paw/train/lora.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "paw/adapter/lora.hpp"
#include "paw/adapter/writer.hpp"
#include "paw/tensor/quantize.hpp"
#include "paw/util/error.hpp"

namespace paw::train {

std::vector<LinearSpec> lora_targets(const TorchModelImpl& model, const LoraConfig& cfg) {
  if (cfg.rank <= 0) throw Error("LoRA rank must be positive", "lora.rank");
  const std::vector<LinearSpec> all = model.linears();
  std::set<std::string> kinds;
  for (const LinearSpec& s : all) kinds.insert(s.kind);
  for (const std::string& t : cfg.targets) {
    target_tensor(t);  // throws for names no architecture has
    if (!kinds.count(t))
      throw Error("LoRA target '" + t + "' does not exist in this " + std::string(arch_name(model.hparams().arch)) +
                      " model",
                  "lora.targets", model.hparams().arch == Arch::Qwen3 ? "qwen3 has q k v o gate up down"
                                                                       : "gpt2 has qkv o up down");
  }
  for (int64_t l : cfg.layers)
    if (l < 0 || l >= model.hparams().n_layer)
      throw Error("LoRA layer " + std::to_string(l) + " is out of range [0, " + std::to_string(model.hparams().n_layer) +
                      ")",
                  "lora.layers");
  std::vector<LinearSpec> out;
  for (const LinearSpec& s : all) {
    if (std::find(cfg.targets.begin(), cfg.targets.end(), s.kind) == cfg.targets.end()) continue;
    if (!cfg.layers.empty() && s.layer >= 0 && std::find(cfg.layers.begin(), cfg.layers.end(), s.layer) == cfg.layers.end())
      continue;
    out.push_back(s);
  }
  if (out.empty()) throw Error("the LoRA config selects no linear", "lora.targets");
  return out;
}

LoraModuleImpl::LoraModuleImpl(const TorchModelImpl& model, LoraConfig cfg, uint64_t seed)
    : cfg_(std::move(cfg)), targets_(lora_targets(model, cfg_)) {
  auto gen = at::detail::createCPUGenerator(seed);
  const auto opts = torch::TensorOptions().dtype(model.gguf_tensors().at("token_embd.weight").scalar_type());
  for (const LinearSpec& s : targets_) {
    std::string key = s.name;
    std::replace(key.begin(), key.end(), '.', '_');
    const double bound = 1.0 / std::sqrt(static_cast<double>(s.n_in));
    torch::Tensor a = at::empty({cfg_.rank, s.n_in}, opts.dtype(torch::kFloat)).uniform_(-bound, bound, gen).to(opts);
    a_.push_back(register_parameter(key + "_lora_a", a));
    b_.push_back(register_parameter(key + "_lora_b", torch::zeros({s.n_out, cfg_.rank}, opts)));
  }
}

LoraSet LoraModuleImpl::lora_set() const {
  LoraSet set;
  set.alpha = cfg_.alpha;
  for (size_t i = 0; i < targets_.size(); ++i) set.pairs[targets_[i].name] = LoraTensors{a_[i], b_[i]};
  return set;
}

torch::Tensor& LoraModuleImpl::a(const std::string& base_name) {
  for (size_t i = 0; i < targets_.size(); ++i)
    if (targets_[i].name == base_name) return a_[i];
  throw Error("no LoRA target '" + base_name + "'", "LoraModule");
}

torch::Tensor& LoraModuleImpl::b(const std::string& base_name) {
  for (size_t i = 0; i < targets_.size(); ++i)
    if (targets_[i].name == base_name) return b_[i];
  throw Error("no LoRA target '" + base_name + "'", "LoraModule");
}

namespace {

torch::Tensor dequantize_view(const MatrixView& v) {
  torch::Tensor t = torch::empty({v.rows, v.cols}, torch::kFloat);
  const size_t stride = *row_bytes(v.type, v.cols);
  for (int64_t r = 0; r < v.rows; ++r)
    dequantize_row(v.type, v.data + static_cast<size_t>(r) * stride, t.data_ptr<float>() + r * v.cols, v.cols);
  return t;
}

}  // namespace

LoraSet load_lora_gguf(const std::string& path) {
  const auto ad = LoraAdapter::load_gguf(path);
  if (ad->embedding_pair())
    throw Error("the adapter has a token_embd pair, which the libtorch models do not apply", path);
  LoraSet set;
  set.alpha = ad->alpha();
  for (const auto& [name, p] : ad->pairs()) set.pairs[name] = LoraTensors{dequantize_view(p.a), dequantize_view(p.b)};
  return set;
}

void export_lora_gguf(const LoraSet& set, const std::string& arch, const std::string& path, DType type) {
  if (set.user_scale != 1.0)
    throw Error("a LoRA user scale other than 1 cannot be stored in an adapter file", "export " + path,
                "fold the scale into alpha");
  std::map<std::string, LoraWeights> pairs;
  for (const auto& [name, t] : set.pairs) {
    if (t.a.dim() != 2 || t.b.dim() != 2)
      throw Error("LoRA pair '" + name + "' is batched (one adapter per row)", "export " + path,
                  "export one row's adapter: index a[i] and b[i]");
    const torch::Tensor a = t.a.detach().to(torch::kCPU, torch::kFloat).contiguous();
    const torch::Tensor b = t.b.detach().to(torch::kCPU, torch::kFloat).contiguous();
    LoraWeights w;
    w.rank = a.size(0);
    w.n_in = a.size(1);
    w.n_out = b.size(0);
    if (b.size(1) != w.rank)
      throw Error("LoRA pair '" + name + "': b has " + std::to_string(b.size(1)) + " columns, a has rank " +
                      std::to_string(w.rank),
                  "export " + path);
    w.a.assign(a.data_ptr<float>(), a.data_ptr<float>() + a.numel());
    w.b.assign(b.data_ptr<float>(), b.data_ptr<float>() + b.numel());
    pairs.emplace(name, std::move(w));
  }
  write_lora_gguf(path, arch, static_cast<float>(set.alpha), pairs, type);
}

}  // namespace paw::train
