#pragma once
// Private: how loaders (GGUF, HF safetensors) bind tensors into a Model through the
// binding table. A loader supplies one lookup function; validation is shared.
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "paw/formats/gguf.hpp"
#include "paw/formats/safetensors.hpp"
#include "paw/model/model.hpp"

namespace paw {

struct Model::Storage {
  std::optional<GGUFFile> gguf;
  std::optional<SafetensorsCheckpoint> safetensors;
  std::deque<std::vector<float>> owned;  // converted tensors; a deque never moves its elements
  struct FreeBytes {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::vector<std::unique_ptr<uint8_t, FreeBytes>> interleaved;  // WeightRef::kernel copies (64-byte aligned)
};

// One tensor as a source presents it, already in GGUF orientation (ne innermost first).
struct SourceTensor {
  std::vector<int64_t> ne;
  DType type = DType::F32;
  const uint8_t* data = nullptr;
  uint64_t n_bytes = 0;
};

struct ModelBuilder {
  // Returns the tensor for (spec, layer) or nullopt when the source lacks it. `gguf_name`
  // is the tensor's GGUF name (for messages and the WeightRef).
  using Lookup = std::function<std::optional<SourceTensor>(const TensorSpec& spec, int64_t layer,
                                                           const std::string& gguf_name)>;

  // Binds every spec; throws paw::Error naming `where`, the tensor, and expected vs actual
  // shape on any mismatch or missing required tensor.
  static void bind(Model& m, const Lookup& lookup, const std::string& where);
  static std::shared_ptr<Model> make() { return std::shared_ptr<Model>(new Model()); }
  static Model::Storage& storage(Model& m);
  static HParams& hparams(Model& m) { return m.hp_; }
  static std::string& path(Model& m) { return m.path_; }
};

// fn(ref, spec) for every slot of the binding table of `arch` (present or not), in table order:
// spec by spec, per-layer specs layer by layer.
template <class F>
void for_each_weight(Arch arch, ModelWeights& w, F&& fn) {
  for (const TensorSpec& spec : tensor_specs(arch)) {
    if (spec.per_layer())
      for (LayerWeights& l : w.layers) fn(l.*spec.layer_field, spec);
    else
      fn(w.*spec.model_field, spec);
  }
}

}  // namespace paw
