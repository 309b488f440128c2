#pragma once
// Weight types. Numeric ids are ggml's (GGUF stores them), so a GGUF tensor's type id maps
// straight onto DType.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace paw {

enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  BF16 = 30,
  // In-memory layouts paw makes itself, never stored in a file (ids above ggml's range; the
  // file readers and dtype_from_name do not know them). See paw/tensor/interleave.hpp.
  Q4_0_X16 = 1002,  // Q4_0 with 16 rows interleaved block by block
  Q8_0_X16 = 1003,  // Q8_0 likewise, levels stored as unsigned bytes (q + 128)
};

struct DTypeTraits {
  DType type;
  std::string_view name;  // ggml's name: "f32", "q4_0", "q6_K", ...
  int64_t block_size;     // elements per block (1 for plain types)
  size_t type_size;       // bytes per block
  bool can_dequantize;    // paw has a reference dequantizer
  bool can_quantize;      // paw has a reference quantizer
  bool in_memory_only = false;  // a layout paw builds in memory (Q4_0_X16, Q8_0_X16); no file holds it
};

// nullopt for an id paw does not know, and for in-memory-only layouts (GGUF readers turn that
// into a clear error).
std::optional<DTypeTraits> dtype_traits(uint32_t id);
const DTypeTraits& traits(DType t);  // for known types; throws paw::Error otherwise
std::string_view dtype_name(DType t);
// Case-insensitive "q8_0", "Q6_K", "f16"; file types only (nullopt for in-memory layouts).
std::optional<DType> dtype_from_name(std::string_view name);

// llama.cpp's general.file_type (llama_ftype) for a model whose linears are `t`
// (K-quants map to their _M variants); 0 (all F32) for types without one.
uint32_t llama_file_type(DType t);

// Bytes of a row of n elements; nullopt if n is not a multiple of the block size.
std::optional<size_t> row_bytes(DType t, int64_t n);

}  // namespace paw
