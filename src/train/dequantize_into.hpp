#pragma once
// Inside the train layer: fill a float parameter from stored rows of any weight type, shared by
// the GGUF loader (gguf_io.cpp) and the loader of native-bound checkpoints (load_model.cpp).
#include <torch/types.h>

#include <string>

#include "paw/tensor/quantize.hpp"
#include "paw/util/error.hpp"

namespace paw::train {

// `p` [rows, cols] (any shape with rows·cols values) = the dequantized rows at `data`. Throws
// paw::Error naming `name` at `where` when paw cannot dequantize the type or a row does not fit
// its blocks. The caller checks the shape.
inline void dequantize_into(torch::Tensor& p, DType type, const uint8_t* data, int64_t rows, int64_t cols,
                            const std::string& name, const std::string& where) {
  const auto& tr = traits(type);
  if (!tr.can_dequantize)
    throw Error("tensor '" + name + "' has weight type " + std::string(tr.name) + ", which paw cannot dequantize", where);
  const auto rb = row_bytes(type, cols);
  if (!rb) throw Error("tensor '" + name + "' rows do not fit its type's blocks", where);
  torch::Tensor host = torch::empty(p.sizes(), torch::TensorOptions().dtype(torch::kFloat));
  float* dst = host.data_ptr<float>();
  for (int64_t r = 0; r < rows; ++r) dequantize_row(type, data + static_cast<size_t>(r) * *rb, dst + r * cols, cols);
  p.copy_(host);
}

}  // namespace paw::train
