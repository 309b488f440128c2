#pragma once
// `paw convert`: a model GGUF with its weight matrices stored in another type (F16, Q8_0,
// Q4_0 or F32), every other tensor and all metadata kept. The copy records the file it was
// made from (paw.source.*), so that a compiler trained for the original accepts the copy
// (compiler::Compiler::check_interpreter) and a user can tell what a small file stands for.
#include <cstdint>
#include <optional>
#include <string>

#include "paw/tensor/dtype.hpp"

namespace paw {

class GGUFFile;

// Metadata keys of a converted file (docs/FORMATS.md, "Converted models").
namespace source_key {
inline constexpr const char* name = "paw.source.name";      // the original's file name
inline constexpr const char* size = "paw.source.size";      // its size in bytes (u64)
inline constexpr const char* sha256 = "paw.source.sha256";  // its SHA-256, lower-case hex
}  // namespace source_key

struct ConvertOptions {
  // The matrices' new type: F32, F16, Q8_0 or Q4_0 (default F16: half the bytes of F32, logits
  // within F16 rounding). A matrix whose rows do not hold whole 32-value blocks keeps F16 under a
  // block type, as llama.cpp's quantizer falls back.
  DType type = DType::F16;
};

struct ConvertReport {
  int converted = 0;       // matrices stored in the new type
  int fallback_f16 = 0;    // matrices stored in F16 because their rows do not hold whole blocks
  int kept = 0;            // other tensors (norms, biases, matrices already of the type), copied as is
  uint64_t bytes_in = 0, bytes_out = 0;
  std::string source_name, source_sha256;  // the original (a converted input's own source)
};

// The file a converted model was made from, when it records one (all three keys present and
// well-formed); nullopt for an original. Throws paw::Error naming the key when it is malformed.
struct ModelSource {
  std::string name;
  uint64_t size = 0;
  std::string sha256;
};
std::optional<ModelSource> converted_from(const GGUFFile& f);

// Reads the model `in` (a GGUF with general.architecture) and writes its converted copy to
// `out` atomically: nothing is written on error. 2-D tensors are the matrices; a converted
// input keeps naming its own source, so a chain of conversions names the first file.
ConvertReport convert_model_gguf(const std::string& in, const std::string& out, const ConvertOptions& o = {});

}  // namespace paw
