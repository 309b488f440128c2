#pragma once
// TorchModel <-> llama.cpp GGUF.
//
// Load: hyper-parameters through the native reader (hparams_from_gguf, so both sides agree on
// every default), every tensor dequantized with paw::dequantize_row into an F32 parameter.
// Export: the metadata keys and value types llama.cpp's converters write (and
// src/model/hparams.cpp reads), tensors in the binding-table order, linears and embeddings in
// the requested type, norm weights and biases always F32. tokenizer.ggml.* come from a
// paw::Tokenizer (padded to the embedding rows when the vocabulary is shorter).
#include <string>

#include "paw/formats/gguf.hpp"
#include "paw/tensor/dtype.hpp"
#include "paw/train/model.hpp"

namespace paw {
class GGUFFile;
class Tokenizer;
}  // namespace paw

namespace paw::train {

// The shape stored in a GGUF model file (tied = no output.weight tensor).
ModelConfig config_from_gguf(const GGUFFile& f);

// A model with every parameter loaded from `path` (F32 on the CPU). Throws paw::Error naming
// the file and tensor for a missing tensor, an unexpected one, or a shape mismatch.
TorchModel load_gguf_model(const std::string& path);
// A GGUF file, or a Hugging Face folder (config.json + model.safetensors[.index.json]) as
// paw::Model::load reads it: names, GPT-2's Conv1D layout and dtypes are mapped by the native
// loader, so training and inference see the same weights. Throws paw::Error like the loaders.
TorchModel load_model(const std::string& path);
// Copies a GGUF file's tensors into an existing model of the same shape.
void load_gguf_weights(TorchModelImpl& m, const GGUFFile& f);

struct ExportOptions {
  // Type of the linears and embeddings: F32, F16, BF16, Q8_0, Q4_0, ... (anything
  // paw::quantize_row writes). A tensor whose rows do not fit the type's block (e.g. n_in not
  // a multiple of 32 for Q8_0) is written as F16 instead, as llama.cpp's quantizer falls back.
  DType type = DType::F32;
  // Vocabulary written as tokenizer.ggml.*; null writes none (the native loader then takes
  // the vocabulary size from token_embd).
  const Tokenizer* tokenizer = nullptr;
  std::string name = "paw-train";  // general.name
};

// Writes the model as a llama.cpp GGUF (atomically).
// export_gguf's writer before it is written (callers add metadata and tensors); `path` only
// names the file in errors.
GGUFWriter make_gguf_writer(const TorchModelImpl& m, const std::string& path, const ExportOptions& opt);
void export_gguf(const TorchModelImpl& m, const std::string& path, const ExportOptions& opt = {});

}  // namespace paw::train
