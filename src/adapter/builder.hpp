#pragma once
// Private: how the loaders (GGUF, PEFT) fill a LoraAdapter, and what keeps its views alive.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "paw/adapter/lora.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/util/mapped_file.hpp"

namespace paw {

// Backing memory of an adapter's MatrixViews: the mapped GGUF file (zero-copy) or owned F32
// buffers converted from safetensors. Buffers are never resized after views are taken.
struct LoraAdapter::Storage {
  MappedFile map;                       // GGUF adapters loaded from a file: its mapping
  std::shared_ptr<const std::vector<uint8_t>> bytes;   // ... or from memory: the GGUF bytes
  std::optional<GGUFFile> gguf;         // parsed over `map`
  std::vector<std::vector<float>> owned;  // PEFT adapters: one buffer per matrix
  std::vector<std::shared_ptr<uint8_t>> interleaved;  // Q4_0_X16 copies (LoraPair::a_kernel/b_kernel)
};

namespace detail {

struct LoraAdapterBuilder {
  std::shared_ptr<LoraAdapter> adapter = std::make_shared<LoraAdapter>();

  LoraAdapter::Storage& storage() {
    if (!adapter->storage_) adapter->storage_ = std::make_shared<LoraAdapter::Storage>();
    return *adapter->storage_;
  }
  void set_identity(std::string path, std::string arch, float alpha, std::string sha256) {
    adapter->path_ = std::move(path);
    adapter->arch_ = std::move(arch);
    adapter->alpha_ = alpha;
    adapter->sha256_ = std::move(sha256);
  }
  std::map<std::string, LoraPair>& pairs() { return adapter->pairs_; }
  void set_embedding(const LoraEmbeddingPair& e) { adapter->embedding_ = e; }
  void set_ignored_norms(int64_t n) { adapter->ignored_norms_ = n; }
  // Sets every pair's kernel views (interleaving Q4_0 matrices) and hands the adapter over.
  std::shared_ptr<const LoraAdapter> finish();
};

}  // namespace detail
}  // namespace paw
