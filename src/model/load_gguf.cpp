// Model from a llama.cpp GGUF file: weights are views into the file mapping.
#include <string>

#include "model/model_builder.hpp"
#include "paw/util/error.hpp"

namespace paw {

std::shared_ptr<const Model> Model::load_gguf(const std::string& path, const ModelLoadOptions& opts) {
  return from_gguf(GGUFFile::open(path), opts);
}

std::shared_ptr<const Model> Model::from_gguf(GGUFFile file, const ModelLoadOptions& opts) {
  auto m = ModelBuilder::make();
  auto& st = ModelBuilder::storage(*m);
  st.gguf.emplace(std::move(file));
  const GGUFFile& f = *st.gguf;
  ModelBuilder::path(*m) = f.path();
  ModelBuilder::hparams(*m) = hparams_from_gguf(f);
  ModelBuilder::bind(
      *m,
      [&f](const TensorSpec&, int64_t, const std::string& name) -> std::optional<SourceTensor> {
        const GGUFTensorInfo* t = f.find_tensor(name);
        if (!t) return std::nullopt;
        return SourceTensor{t->ne, t->type, t->data, t->n_bytes};
      },
      f.path());
  if (opts.interleave) m->interleave_weights([&f](const uint8_t* p, size_t n) { f.release(p, n); });
  return m;
}

}  // namespace paw
