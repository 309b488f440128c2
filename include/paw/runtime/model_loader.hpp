#pragma once
// One way to load a base model together with its tokenizer, used by the interpreter, the CLI
// and the evaluator: the tokenizer comes from the GGUF's own tokenizer.ggml.* metadata, or
// from tokenizer.json (+ tokenizer_config.json) of a Hugging Face folder.
#include <memory>
#include <string>

#include "paw/model/model.hpp"
#include "paw/tokenizer/tokenizer.hpp"

namespace paw {

struct ModelWithTokenizer {
  std::shared_ptr<const Model> model;
  Tokenizer tokenizer;
};

// Throws paw::Error naming the file (model or tokenizer) that cannot be read.
ModelWithTokenizer load_model_with_tokenizer(const std::string& path, const ModelLoadOptions& opts = {});

// The tokenizer of a loaded model (its GGUF metadata, or the folder's tokenizer files).
Tokenizer tokenizer_of(const Model& m);

}  // namespace paw
