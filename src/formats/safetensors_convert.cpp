// safetensors float tensors -> float32. Tensor bytes in the mapping carry no alignment
// guarantee (the header length is arbitrary in foreign files), so every load is a memcpy.
#include <cstring>
#include <limits>

#include "paw/formats/safetensors.hpp"
#include "paw/tensor/half.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

// double -> float with IEEE rounding, spelled out for magnitudes past float's range so the
// conversion is defined behaviour under any compiler: at or beyond the midpoint between
// FLT_MAX and 2^128 the result is infinity (ties go to the even neighbour, 2^128).
float narrow(double d) {
  constexpr double kOverflow = 0x1.ffffffp127;
  if (d >= kOverflow) return std::numeric_limits<float>::infinity();
  if (d <= -kOverflow) return -std::numeric_limits<float>::infinity();
  return static_cast<float>(d);
}

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

void st_tensor_to_f32(const SafetensorsTensor& t, std::span<float> out, const std::string& where) {
  std::string loc = where + ": tensor '" + t.name + "'";
  if (!st_dtype_is_float(t.dtype)) {
    bool f8 = t.dtype == STDType::F8_E4M3 || t.dtype == STDType::F8_E5M2;
    throw Error("dtype " + std::string(st_dtype_name(t.dtype)) + " cannot be converted to float32", loc,
                f8 ? "F8 checkpoints are recognised but not supported; convert the model to BF16/F16/F32 first"
                   : "only F64, F32, F16 and BF16 tensors hold float weights");
  }
  const auto n = static_cast<size_t>(t.numel());
  if (out.size() != n)
    throw Error("output buffer holds " + std::to_string(out.size()) + " floats but the tensor has " +
                    std::to_string(n) + " elements",
                loc, "internal error: size the buffer from numel()");
  const uint8_t* p = t.data.data();
  switch (t.dtype) {
    case STDType::F32:
      if (n) std::memcpy(out.data(), p, n * 4);
      break;
    case STDType::F16:
      for (size_t i = 0; i < n; ++i) out[i] = f16_to_f32(load<uint16_t>(p + 2 * i));
      break;
    case STDType::BF16:
      for (size_t i = 0; i < n; ++i) out[i] = bf16_to_f32(load<uint16_t>(p + 2 * i));
      break;
    case STDType::F64:
      for (size_t i = 0; i < n; ++i) out[i] = narrow(load<double>(p + 8 * i));
      break;
    default:
      break;  // unreachable: non-float dtypes rejected above
  }
}

std::vector<float> st_tensor_to_f32(const SafetensorsTensor& t, const std::string& where) {
  // Check the dtype before allocating: a rejected tensor should not cost its size in heap.
  if (!st_dtype_is_float(t.dtype)) st_tensor_to_f32(t, std::span<float>(), where);
  std::vector<float> out(static_cast<size_t>(t.numel()));
  st_tensor_to_f32(t, out, where);
  return out;
}

}  // namespace paw
