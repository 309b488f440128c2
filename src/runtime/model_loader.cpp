// load_model_with_tokenizer: the one place that pairs a model with its tokenizer.
#include "paw/runtime/model_loader.hpp"

namespace paw {

Tokenizer tokenizer_of(const Model& m) {
  return m.gguf() ? Tokenizer::from_gguf(*m.gguf()) : Tokenizer::load(m.path());
}

ModelWithTokenizer load_model_with_tokenizer(const std::string& path, const ModelLoadOptions& opts) {
  ModelWithTokenizer r{Model::load(path, opts), Tokenizer{}};
  r.tokenizer = tokenizer_of(*r.model);
  return r;
}

}  // namespace paw
