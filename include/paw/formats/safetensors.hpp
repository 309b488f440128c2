#pragma once
// safetensors reader (over mmap, zero-copy tensor data), writer, and sharded-checkpoint
// loader (model.safetensors.index.json). Layout notes (docs/FORMATS.md):
//   [u64 LE header length N][N bytes of UTF-8 JSON, padded with spaces][data section]
// The JSON header is an object: tensor name -> {"dtype", "shape", "data_offsets":[begin,end]}
// plus an optional "__metadata__" object of string -> string. Offsets are relative to the
// data section (byte 8 + N). Shapes are PyTorch order (outermost first), the reverse of
// GGUF's ne[] — a [n_out, n_in] weight here is ne = [n_in, n_out] in GGUF.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "paw/tensor/dtype.hpp"
#include "paw/util/mapped_file.hpp"

namespace paw {

// Every dtype the safetensors format defines that paw recognises. Only the float types
// (F64 F32 F16 BF16) convert to float32; the F8 types are parsed and validated but refused
// by conversion (paw has no consumer for them).
enum class STDType : uint8_t {
  BOOL, U8, I8, U16, I16, U32, I32, U64, I64, F16, BF16, F32, F64, F8_E4M3, F8_E5M2,
};

std::string_view st_dtype_name(STDType t);                         // "F32", "BF16", ...
std::optional<STDType> st_dtype_from_name(std::string_view name);  // exact, case-sensitive
size_t st_dtype_size(STDType t);                                   // bytes per element
bool st_dtype_is_float(STDType t);                                 // F64/F32/F16/BF16
// The matching paw weight type where one exists (F32 F16 BF16 F64 I8 I16 I32 I64).
std::optional<DType> st_dtype_to_paw(STDType t);

// Header cap, as the reference implementation (100,000,000 bytes): a larger length field
// is a corrupt or hostile file, and honouring it would mean parsing 100 MB of JSON.
inline constexpr uint64_t kSafetensorsMaxHeader = 100'000'000;

struct SafetensorsTensor {
  std::string name;
  STDType dtype = STDType::F32;
  std::vector<int64_t> shape;        // outermost first; [] is a scalar (1 element)
  uint64_t begin = 0, end = 0;       // data_offsets, relative to the data section
  uint64_t file_offset = 0;          // absolute offset of the first byte in the file
  std::span<const uint8_t> data;     // into the mapping (valid while the file lives); may be unaligned

  int64_t numel() const;             // product of shape (validated not to overflow)
  uint64_t n_bytes() const noexcept { return end - begin; }
};

class SafetensorsFile {
 public:
  // Opens and validates the whole header and every tensor's bounds. Throws paw::Error
  // naming the file, the tensor and the field that is wrong.
  static SafetensorsFile open(const std::string& path);
  // Parses bytes held elsewhere (fuzzing, tests); `name` appears in error messages.
  // The caller keeps `bytes` alive while the SafetensorsFile is used.
  static SafetensorsFile parse(std::span<const uint8_t> bytes, const std::string& name);

  const std::string& path() const noexcept { return name_; }
  uint64_t header_size() const noexcept { return header_size_; }   // N (the length field)
  uint64_t data_offset() const noexcept { return 8 + header_size_; }
  uint64_t file_size() const noexcept { return bytes_.size(); }

  // "__metadata__" (empty when absent).
  const std::map<std::string, std::string>& metadata() const noexcept { return metadata_; }
  // Sorted by name.
  const std::vector<SafetensorsTensor>& tensors() const noexcept { return tensors_; }
  const SafetensorsTensor* find(std::string_view name) const;
  // Throws paw::Error naming the file and tensor when absent.
  const SafetensorsTensor& get(std::string_view name) const;
  // Values of a float tensor as float32 (F32 copied; F16/BF16/F64 converted).
  std::vector<float> to_f32(std::string_view name) const;

 private:
  std::shared_ptr<MappedFile> map_;  // null when parsed from caller-owned bytes
  std::span<const uint8_t> bytes_;
  std::string name_;
  uint64_t header_size_ = 0;
  std::map<std::string, std::string> metadata_;
  std::vector<SafetensorsTensor> tensors_;
  friend class SafetensorsParser;
};

// Converts a float tensor's bytes to float32. `where` names the file for error messages.
// Throws paw::Error for integer/bool/F8 dtypes or when out.size() != t.numel().
void st_tensor_to_f32(const SafetensorsTensor& t, std::span<float> out, const std::string& where);
std::vector<float> st_tensor_to_f32(const SafetensorsTensor& t, const std::string& where);

// Writes safetensors files the reference implementation reads. The header is compact JSON
// padded with spaces to a multiple of 8 bytes: "__metadata__" first, then the tensors in
// file order. Tensor data is contiguous from offset 0, ordered by element size (largest
// first) and then by name — as the reference does, so every tensor is aligned to its
// element size in the mapped file.
class SafetensorsWriter {
 public:
  void set_metadata(std::string key, std::string value);
  // Copies the bytes; n_bytes must equal numel(shape) * st_dtype_size(dtype). Throws
  // paw::Error on a duplicate name, an empty name, a negative dim or a size mismatch.
  void add_tensor(std::string name, STDType dtype, std::vector<int64_t> shape, const void* data, size_t n_bytes);
  // Float32 source stored as F32, F16, BF16 (round-to-nearest-even) or F64.
  void add_f32(std::string name, std::vector<int64_t> shape, std::span<const float> values,
               STDType store_as = STDType::F32);

  std::vector<uint8_t> to_bytes() const;
  void write(const std::string& path) const;  // atomic (temp file + rename)

 private:
  struct Pending {
    STDType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> data;
  };
  std::string header_json() const;  // padded
  std::vector<std::pair<const std::string*, const Pending*>> file_order() const;
  std::map<std::string, std::string> metadata_;
  std::map<std::string, Pending> tensors_;  // name order is the file order
};

// One tensor lookup over a single file or a sharded checkpoint. A sharded checkpoint is
// `model.safetensors.index.json` ({"metadata": {...}, "weight_map": {tensor: shard file}})
// beside its shard files; each shard is opened (mmap) once.
class SafetensorsCheckpoint {
 public:
  // `path` is a .safetensors file, an index .json, or a directory holding
  // model.safetensors.index.json or model.safetensors (the index wins when both exist).
  static SafetensorsCheckpoint open(const std::string& path);
  // Parses index JSON text; returns weight_map in name order. `name` is for messages.
  // Validates that shard names are plain file names (no directories, no "..").
  static std::map<std::string, std::string> parse_index(std::string_view json_text, const std::string& name);

  const std::string& path() const noexcept { return path_; }
  const std::vector<SafetensorsFile>& shards() const noexcept { return shards_; }
  size_t size() const noexcept { return lookup_.size(); }
  std::vector<std::string> names() const;  // sorted
  const SafetensorsTensor* find(std::string_view name) const;
  const SafetensorsTensor& get(std::string_view name) const;       // throws naming the checkpoint
  const SafetensorsFile& shard_of(std::string_view name) const;    // throws like get()
  std::vector<float> to_f32(std::string_view name) const;

 private:
  struct Entry {
    size_t shard;
    const SafetensorsTensor* tensor;
  };
  std::string path_;
  std::vector<SafetensorsFile> shards_;
  std::map<std::string, Entry, std::less<>> lookup_;
};

}  // namespace paw
