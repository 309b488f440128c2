#pragma once
// A view of one stored weight matrix: `rows` rows of `cols` elements of `type`, row-major,
// row stride row_bytes(type, cols). GGUF ne = [cols, rows]. Data lives in the owner's
// mapping or buffer; the view never owns it. Every linear kernel takes one of these.
#include <cstdint>

#include "paw/tensor/dtype.hpp"

namespace paw {

struct MatrixView {
  DType type = DType::F32;
  int64_t rows = 0;   // ne[1]
  int64_t cols = 0;   // ne[0]
  const uint8_t* data = nullptr;
};

}  // namespace paw
