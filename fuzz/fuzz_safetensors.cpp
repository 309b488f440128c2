// libFuzzer target: safetensors header parsing and float conversion of every tensor, plus
// the two JSON parsers beside it (sharded index, HF config.json) when the input is JSON.
// Any input must either parse or throw paw::Error — never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "paw/formats/hf_config.hpp"
#include "paw/formats/safetensors.hpp"
#include "paw/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  try {
    auto f = paw::SafetensorsFile::parse(bytes, "fuzz.safetensors");
    std::vector<float> out;
    for (const auto& t : f.tensors()) {
      // Validated tensors lie inside the input, so numel is bounded by its size.
      if (!paw::st_dtype_is_float(t.dtype)) continue;
      out.resize(static_cast<size_t>(t.numel()));
      paw::st_tensor_to_f32(t, out, f.path());
    }
    (void)f.find("a");
  } catch (const paw::Error&) {
  }
  if (size > 0 && data[0] == '{') {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
      (void)paw::SafetensorsCheckpoint::parse_index(text, "fuzz.index.json");
    } catch (const paw::Error&) {
    }
    try {
      (void)paw::parse_hf_config(text, "fuzz.config.json");
    } catch (const paw::Error&) {
    }
  }
  return 0;
}
