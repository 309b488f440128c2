#pragma once
// Runs paw's model-layer forward directly (KVCache + ForwardScratch + forward) for tests.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "paw/formats/gguf.hpp"
#include "paw/model/forward.hpp"
#include "paw/model/model.hpp"

namespace paw::test {

struct PawOutput {
  std::vector<float> logits;                   // [T, n_vocab]
  std::map<int, std::vector<float>> hidden;    // layer -> [T, n_embd]
};

struct PawArgs {
  DType kv = DType::F32;
  int64_t n_batch = 64;                        // chunk size; 1 = token by token
  std::vector<int> hidden_layers;
  int n_threads = 2;
  const KernelTable* kt = nullptr;             // null = kernels()
};

inline PawOutput run_paw(const Model& m, const std::vector<int32_t>& tokens, const AdapterBinding& ad,
                         const PawArgs& a = {}) {
  const HParams& hp = m.hparams();
  const auto T = static_cast<int64_t>(tokens.size());
  KVCache kv(hp, 64, a.kv);
  ForwardScratch s(m, a.n_batch, 64, a.n_threads, a.kt);
  s.reserve(ad);
  PawOutput out;
  out.logits.resize(static_cast<size_t>(T * hp.n_vocab));
  for (int l : a.hidden_layers) out.hidden[l].resize(static_cast<size_t>(T * hp.n_embd));
  for (int64_t i = 0; i < T; i += a.n_batch) {
    const int64_t n = std::min(a.n_batch, T - i);
    std::vector<HiddenTap> taps;
    for (int l : a.hidden_layers) taps.push_back(HiddenTap{l, 0, n, out.hidden[l].data() + i * hp.n_embd});
    ForwardRequest req;
    req.tokens = std::span<const int32_t>(tokens).subspan(static_cast<size_t>(i), static_cast<size_t>(n));
    req.pos0 = i;
    req.logits = out.logits.data() + i * hp.n_vocab;
    req.logits_all = true;
    req.taps = taps;
    forward(m, ad, kv, s, req);
  }
  return out;
}

// LoRA terms read straight from an adapter GGUF (independent of the adapter library): every
// "<base>.lora_a"/"<base>.lora_b" pair, scale = user_scale · alpha / rank.
struct ManualAdapter {
  std::unique_ptr<GGUFFile> file;
  void bind(const Model& m, AdapterBinding& b, float user_scale) const {
    const double alpha = file->get_f64_or("adapter.lora.alpha", 0.0);
    for (const auto& t : file->tensors()) {
      const std::string suffix = ".lora_a";
      if (t.name.size() <= suffix.size() || t.name.compare(t.name.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      const std::string base = t.name.substr(0, t.name.size() - suffix.size());
      const GGUFTensorInfo* tb = file->find_tensor(base + ".lora_b");
      MatrixView a{t.type, t.ne[1], t.ne[0], t.data};
      MatrixView bv{tb->type, tb->ne[1], tb->ne[0], tb->data};
      if (base == "token_embd.weight") {
        const double f = alpha != 0 ? alpha / static_cast<double>(a.cols) : 1.0;
        b.add_embedding(m, EmbeddingLoraTerm{a, bv, static_cast<float>(user_scale * f)});
        continue;
      }
      const double f = alpha != 0 ? alpha / static_cast<double>(a.rows) : 1.0;
      b.add(m, m.find_linear(base), LoraTerm{a, bv, static_cast<float>(user_scale * f)});
    }
  }
};

inline ManualAdapter open_adapter(const std::string& path) {
  return ManualAdapter{std::make_unique<GGUFFile>(GGUFFile::open(path))};
}

}  // namespace paw::test
