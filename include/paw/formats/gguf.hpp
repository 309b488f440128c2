#pragma once
// GGUF v2/v3 reader (over mmap, zero-copy tensor data) and writer.
// Layout notes (docs/FORMATS.md): little-endian; header magic "GGUF", u32 version,
// u64 tensor count, u64 metadata count (v1 used u32 counts and is refused); strings are
// u64 length + bytes; tensor dims are innermost first (ne[0] = row length); tensor data
// starts at the first multiple of general.alignment (default 32) after the directory and
// tensor offsets are relative to it.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "paw/tensor/dtype.hpp"
#include "paw/util/mapped_file.hpp"

namespace paw {

enum class GGUFType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6,
  BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
std::string_view gguf_type_name(GGUFType t);

// One metadata value. Arrays hold their element type and elements (which may themselves be
// arrays: nested arrays are allowed by the format).
class GGUFValue {
 public:
  using Array = std::vector<GGUFValue>;

  GGUFValue() = default;
  static GGUFValue u8(uint8_t v);
  static GGUFValue i8(int8_t v);
  static GGUFValue u16(uint16_t v);
  static GGUFValue i16(int16_t v);
  static GGUFValue u32(uint32_t v);
  static GGUFValue i32(int32_t v);
  static GGUFValue f32(float v);
  static GGUFValue boolean(bool v);
  static GGUFValue string(std::string v);
  static GGUFValue u64(uint64_t v);
  static GGUFValue i64(int64_t v);
  static GGUFValue f64(double v);
  static GGUFValue array(GGUFType elem_type, Array elems);  // elems must all be elem_type
  static GGUFValue string_array(const std::vector<std::string>& v);
  static GGUFValue i32_array(const std::vector<int32_t>& v);
  static GGUFValue f32_array(const std::vector<float>& v);

  GGUFType type() const noexcept { return type_; }
  GGUFType elem_type() const noexcept { return elem_type_; }  // ARRAY only

  // Typed access; throw paw::Error if the value does not have a compatible type.
  bool is_integer() const noexcept;
  bool is_float() const noexcept;
  uint64_t as_u64() const;        // any non-negative integer type (or bool)
  int64_t as_i64() const;         // any integer type that fits
  double as_f64() const;          // any numeric type
  bool as_bool() const;
  const std::string& as_string() const;
  const Array& as_array() const;
  std::vector<std::string> as_string_array() const;
  std::vector<int64_t> as_int_array() const;
  std::vector<float> as_float_array() const;

  // Short human rendering; arrays longer than max_elems are abbreviated "[a, b, ... (N total)]".
  std::string to_display(size_t max_elems = 8) const;

 private:
  GGUFType type_ = GGUFType::UINT8;
  GGUFType elem_type_ = GGUFType::UINT8;
  std::variant<uint64_t, int64_t, double, bool, std::string, std::shared_ptr<Array>> v_;
};

struct GGUFTensorInfo {
  std::string name;
  std::vector<int64_t> ne;    // innermost first; 1..4 dims
  DType type = DType::F32;
  uint64_t offset = 0;        // relative to the data section
  uint64_t n_bytes = 0;       // validated: row_bytes(type, ne[0]) * ne[1] * ne[2] * ne[3]
  uint64_t file_offset = 0;   // absolute offset of the data in the file
  const uint8_t* data = nullptr;  // points into the mapping (valid while the GGUFFile lives)

  int64_t n_elements() const;
  int64_t rows() const;       // product of ne[1..]
};

class GGUFFile {
 public:
  // Opens and validates the whole file: header, metadata, directory, every tensor's bounds.
  static GGUFFile open(const std::string& path);
  // Parses bytes held elsewhere (fuzzing, tests); `name` is used in error messages.
  // The caller keeps `bytes` alive while the GGUFFile is used.
  static GGUFFile parse(std::span<const uint8_t> bytes, const std::string& name);

  uint32_t version() const noexcept { return version_; }
  uint64_t alignment() const noexcept { return alignment_; }
  uint64_t data_offset() const noexcept { return data_offset_; }
  const std::string& path() const noexcept { return name_; }
  uint64_t file_size() const noexcept { return bytes_.size(); }

  const std::vector<std::pair<std::string, GGUFValue>>& metadata() const noexcept { return kv_; }
  const GGUFValue* find(std::string_view key) const;
  // Required lookups: throw paw::Error naming the file and key if missing or wrongly typed.
  const GGUFValue& get(std::string_view key) const;
  std::string get_string(std::string_view key) const;
  uint64_t get_u64(std::string_view key) const;
  double get_f64(std::string_view key) const;
  // Optional lookups with defaults.
  std::string get_string_or(std::string_view key, std::string def) const;
  uint64_t get_u64_or(std::string_view key, uint64_t def) const;
  double get_f64_or(std::string_view key, double def) const;

  const std::vector<GGUFTensorInfo>& tensors() const noexcept { return tensors_; }
  const GGUFTensorInfo* find_tensor(std::string_view name) const;

  // Drops the whole pages of [p, p + n) from the resident set when the file is mapped (bytes
  // copied elsewhere; a later read faults them back in). No-op for caller-owned bytes.
  void release(const uint8_t* p, size_t n) const noexcept;

 private:
  std::shared_ptr<MappedFile> map_;   // null when parsed from caller-owned bytes
  std::span<const uint8_t> bytes_;
  std::string name_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GGUFValue>> kv_;
  std::vector<GGUFTensorInfo> tensors_;
  friend class GGUFParser;
};

// Writes GGUF v3 files llama.cpp accepts. Metadata keeps insertion order (set() on an
// existing key replaces it in place); tensors are laid out in add order, each aligned.
class GGUFWriter {
 public:
  GGUFWriter();
  void set(std::string key, GGUFValue value);
  // Copies the data (size must equal row_bytes(type, ne[0]) * rows).
  void add_tensor(std::string name, DType type, std::vector<int64_t> ne, const void* data, size_t n_bytes);
  // Convenience: F32 source quantized to `type` by the reference quantizer.
  void add_tensor_f32(std::string name, DType type, std::vector<int64_t> ne, const float* values);
  void set_alignment(uint32_t alignment);   // also writes general.alignment

  std::vector<uint8_t> to_bytes() const;
  void write(const std::string& path) const;  // atomic

 private:
  struct PendingTensor {
    std::string name;
    DType type;
    std::vector<int64_t> ne;
    std::vector<uint8_t> data;
  };
  // Streams the whole file to `sink` (to_bytes collects it, write() sends it to disk).
  void emit(void (*sink)(void* ctx, const void* data, size_t n), void* ctx) const;

  uint32_t alignment_ = 32;
  std::vector<std::pair<std::string, GGUFValue>> kv_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace paw
