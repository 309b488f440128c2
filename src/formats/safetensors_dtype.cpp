// safetensors dtype names and sizes (the format's own spelling: "F32", "BF16", "F8_E4M3").
#include <array>

#include "paw/formats/safetensors.hpp"

namespace paw {
namespace {

struct STDTypeInfo {
  STDType type;
  std::string_view name;
  size_t size;
};

// Order matches the enum so st_dtype_name/size can index directly.
constexpr std::array<STDTypeInfo, 15> kInfo = {{
    {STDType::BOOL, "BOOL", 1},   {STDType::U8, "U8", 1},     {STDType::I8, "I8", 1},
    {STDType::U16, "U16", 2},     {STDType::I16, "I16", 2},   {STDType::U32, "U32", 4},
    {STDType::I32, "I32", 4},     {STDType::U64, "U64", 8},   {STDType::I64, "I64", 8},
    {STDType::F16, "F16", 2},     {STDType::BF16, "BF16", 2}, {STDType::F32, "F32", 4},
    {STDType::F64, "F64", 8},     {STDType::F8_E4M3, "F8_E4M3", 1},
    {STDType::F8_E5M2, "F8_E5M2", 1},
}};

const STDTypeInfo& info(STDType t) { return kInfo[static_cast<size_t>(t)]; }

}  // namespace

std::string_view st_dtype_name(STDType t) { return info(t).name; }
size_t st_dtype_size(STDType t) { return info(t).size; }

std::optional<STDType> st_dtype_from_name(std::string_view name) {
  for (const auto& i : kInfo)
    if (i.name == name) return i.type;
  return std::nullopt;
}

bool st_dtype_is_float(STDType t) {
  return t == STDType::F16 || t == STDType::BF16 || t == STDType::F32 || t == STDType::F64;
}

std::optional<DType> st_dtype_to_paw(STDType t) {
  switch (t) {
    case STDType::F32: return DType::F32;
    case STDType::F16: return DType::F16;
    case STDType::BF16: return DType::BF16;
    case STDType::F64: return DType::F64;
    case STDType::I8: return DType::I8;
    case STDType::I16: return DType::I16;
    case STDType::I32: return DType::I32;
    case STDType::I64: return DType::I64;
    default: return std::nullopt;
  }
}

}  // namespace paw
