// libFuzzer target for the GGUF reader: any byte string must either parse or throw
// paw::Error — no crash, no sanitizer report, no huge allocation. After a successful parse
// every metadata value and every tensor byte range is touched, so a bounds bug in the
// validation shows up as an ASan report here rather than later in a model loader.
#include <cstddef>
#include <cstdint>
#include <span>

#include "paw/formats/gguf.hpp"
#include "paw/util/error.hpp"

namespace {

// Walks a value through every accessor that applies; type errors are expected and ignored.
size_t touch(const paw::GGUFValue& v) {
  size_t h = v.to_display(4).size();
  try { h += v.as_u64(); } catch (const paw::Error&) {}
  try { h += static_cast<size_t>(v.as_i64()); } catch (const paw::Error&) {}
  try { h += static_cast<size_t>(v.as_f64() != 0); } catch (const paw::Error&) {}
  try { h += v.as_bool(); } catch (const paw::Error&) {}
  try { h += v.as_string().size(); } catch (const paw::Error&) {}
  try { h += v.as_string_array().size(); } catch (const paw::Error&) {}
  try { h += v.as_int_array().size(); } catch (const paw::Error&) {}
  try { h += v.as_float_array().size(); } catch (const paw::Error&) {}
  if (v.type() == paw::GGUFType::ARRAY)
    for (const auto& e : v.as_array()) h += touch(e);
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    paw::GGUFFile f = paw::GGUFFile::parse(std::span<const uint8_t>(data, size), "fuzz.gguf");
    volatile size_t sink = f.version() + f.alignment() + f.data_offset();
    for (const auto& [key, value] : f.metadata()) {
      sink = sink + key.size() + touch(value);
      (void)f.find(key);
    }
    try { sink = sink + f.get_string_or("general.architecture", "").size(); } catch (const paw::Error&) {}
    try { sink = sink + f.get_u64_or("general.alignment", 0); } catch (const paw::Error&) {}
    for (const auto& t : f.tensors()) {
      sink = sink + static_cast<size_t>(t.n_elements()) + static_cast<size_t>(t.rows());
      (void)f.find_tensor(t.name);
      // First and last byte of the claimed range: ASan flags any range outside the input.
      if (t.n_bytes > 0) sink = sink + t.data[0] + t.data[t.n_bytes - 1];
      (void)paw::dtype_name(t.type);
    }
    (void)sink;
  } catch (const paw::Error&) {
    // Refusing bad input with a paw::Error is the expected outcome.
  }
  return 0;
}
