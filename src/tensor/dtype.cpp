#include "paw/tensor/dtype.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "paw/tensor/blocks.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

// One row per type ggml defines that paw recognises. Block sizes and byte sizes are ggml's
// (ggml.c type_traits); Q2_K/Q3_K/Q8_K/Q8_1/I* are recognised so files holding them get a
// precise "unsupported type" error instead of "unknown type id".
constexpr std::array kTraits = {
    DTypeTraits{DType::F32, "f32", 1, 4, true, true},
    DTypeTraits{DType::F16, "f16", 1, 2, true, true},
    DTypeTraits{DType::Q4_0, "q4_0", QK4_0, sizeof(block_q4_0), true, true},
    DTypeTraits{DType::Q4_1, "q4_1", QK4_1, sizeof(block_q4_1), true, true},
    DTypeTraits{DType::Q5_0, "q5_0", QK5_0, sizeof(block_q5_0), true, true},
    DTypeTraits{DType::Q5_1, "q5_1", QK5_1, sizeof(block_q5_1), true, true},
    DTypeTraits{DType::Q8_0, "q8_0", QK8_0, sizeof(block_q8_0), true, true},
    DTypeTraits{DType::Q8_1, "q8_1", 32, 36, false, false},
    DTypeTraits{DType::Q2_K, "q2_K", QK_K, 84, false, false},
    DTypeTraits{DType::Q3_K, "q3_K", QK_K, 110, false, false},
    DTypeTraits{DType::Q4_K, "q4_K", QK_K, sizeof(block_q4_K), true, true},
    DTypeTraits{DType::Q5_K, "q5_K", QK_K, sizeof(block_q5_K), true, true},
    DTypeTraits{DType::Q6_K, "q6_K", QK_K, sizeof(block_q6_K), true, true},
    DTypeTraits{DType::Q8_K, "q8_K", QK_K, sizeof(block_q8_K), false, false},
    DTypeTraits{DType::I8, "i8", 1, 1, false, false},
    DTypeTraits{DType::I16, "i16", 1, 2, false, false},
    DTypeTraits{DType::I32, "i32", 1, 4, false, false},
    DTypeTraits{DType::I64, "i64", 1, 8, false, false},
    DTypeTraits{DType::F64, "f64", 1, 8, false, false},
    DTypeTraits{DType::BF16, "bf16", 1, 2, true, true},
    // Per row the bytes of Q4_0 / Q8_0; dequantize_row cannot read one row alone (interleave.hpp).
    DTypeTraits{DType::Q4_0_X16, "q4_0x16", QK4_0, sizeof(block_q4_0), false, false, true},
    DTypeTraits{DType::Q8_0_X16, "q8_0x16", QK8_0, sizeof(block_q8_0), false, false, true},
};

}  // namespace

std::optional<DTypeTraits> dtype_traits(uint32_t id) {
  for (const auto& t : kTraits)
    if (static_cast<uint32_t>(t.type) == id && !t.in_memory_only) return t;
  return std::nullopt;
}

const DTypeTraits& traits(DType type) {
  for (const auto& t : kTraits)
    if (t.type == type) return t;
  throw Error("unknown weight type id " + std::to_string(static_cast<uint32_t>(type)));
}

std::string_view dtype_name(DType t) { return traits(t).name; }

std::optional<DType> dtype_from_name(std::string_view name) {
  auto lower = [](std::string_view s) {
    std::string r(s);
    std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return std::tolower(c); });
    return r;
  };
  std::string want = lower(name);
  for (const auto& t : kTraits)
    if (!t.in_memory_only && lower(t.name) == want) return t.type;
  return std::nullopt;
}

uint32_t llama_file_type(DType t) {
  switch (t) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q4_0: return 2;
    case DType::Q4_1: return 3;
    case DType::Q8_0: return 7;
    case DType::Q5_0: return 8;
    case DType::Q5_1: return 9;
    case DType::Q4_K: return 15;  // Q4_K_M
    case DType::Q5_K: return 17;  // Q5_K_M
    case DType::Q6_K: return 18;
    case DType::BF16: return 32;
    default: return 0;
  }
}

std::optional<size_t> row_bytes(DType t, int64_t n) {
  const auto& tr = traits(t);
  if (n < 0 || n % tr.block_size != 0) return std::nullopt;
  return static_cast<size_t>(n / tr.block_size) * tr.type_size;
}

}  // namespace paw
