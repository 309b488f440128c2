// GGUF reader: validates the whole file up front (header, metadata, tensor directory, every
// tensor's bounds) so later layers can use tensor data pointers without further checks.
// The input is untrusted: every size read from it is checked against the bytes that remain
// before anything is allocated, and all arithmetic on it is overflow-checked.
#include <cstdio>
#include <cstring>
#include <unordered_set>

#include "paw/formats/gguf.hpp"
#include "paw/util/checked_math.hpp"
#include "paw/util/error.hpp"

namespace paw {

namespace {

constexpr uint32_t kMaxDims = 4;         // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 16;       // nested arrays deeper than this are refused (stack safety)
// Each element becomes a ~48-byte GGUFValue, so a forged 600 MB u8 array would cost ~29 GB even
// though its count fits the file. Real vocabularies need ~1M elements in total (tokens,
// merges, token types, scores of a 262k vocabulary); 8M caps the worst case near 400 MB.
constexpr uint64_t kMaxMetadataElements = uint64_t{1} << 23;
constexpr const char* kHintCorrupt = "the file is corrupt or not a GGUF file; re-download or re-create it";
constexpr const char* kHintTruncated = "the file is truncated; re-download or re-create it";

// Smallest encoding of one value of each type: lets us bound counts by the bytes that remain.
uint64_t min_encoded_size(GGUFType t) {
  switch (t) {
    case GGUFType::UINT8: case GGUFType::INT8: case GGUFType::BOOL: return 1;
    case GGUFType::UINT16: case GGUFType::INT16: return 2;
    case GGUFType::UINT32: case GGUFType::INT32: case GGUFType::FLOAT32: return 4;
    case GGUFType::UINT64: case GGUFType::INT64: case GGUFType::FLOAT64: return 8;
    case GGUFType::STRING: return 8;            // u64 length
    case GGUFType::ARRAY: return 4 + 8;         // element type + count
  }
  return 1;
}

bool valid_type_id(uint32_t id) { return id <= static_cast<uint32_t>(GGUFType::FLOAT64); }

std::string quoted(std::string_view s) {
  // Built by appending: `"'" + std::string(s)` trips a GCC 12 -Wrestrict false positive.
  std::string r;
  r.reserve(s.size() + 2);
  r.push_back('\'');
  r.append(s);
  r.push_back('\'');
  return r;
}

}  // namespace

// Parses one GGUF image. Friend of GGUFFile so it can fill the private fields directly.
class GGUFParser {
 public:
  GGUFParser(std::span<const uint8_t> bytes, const std::string& name) : bytes_(bytes), name_(name) {}

  void run(GGUFFile& f) {
    f.bytes_ = bytes_;
    f.name_ = name_;
    read_header(f);
    read_metadata(f);
    resolve_alignment(f);
    read_directory(f);
    place_tensors(f);
  }

 private:
  std::span<const uint8_t> bytes_;
  const std::string& name_;
  uint64_t pos_ = 0;
  uint64_t n_tensors_ = 0, n_kv_ = 0;
  uint64_t total_elements_ = 0;                  // metadata array elements read so far
  std::vector<uint64_t> kv_value_offsets_;       // where each metadata value starts
  std::vector<uint64_t> tensor_info_offsets_;    // where each directory entry starts

  [[noreturn]] void fail(const std::string& what, uint64_t offset, const std::string& context,
                         const std::string& hint) const {
    std::string where = at_offset(name_, offset);
    if (!context.empty()) where += " (" + context + ")";
    throw Error(what, where, hint);
  }

  uint64_t remaining() const { return bytes_.size() - pos_; }

  void need(uint64_t n, const char* what, const std::string& context) const {
    if (n > remaining())
      fail("file ends inside " + std::string(what) + " (needs " + std::to_string(n) + " bytes, " +
               std::to_string(remaining()) + " left)",
           pos_, context, kHintTruncated);
  }

  template <class T>
  T read_le(const char* what, const std::string& context) {
    need(sizeof(T), what, context);
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));  // host is little-endian (x86-64, arm64)
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(const std::string& context) {
    uint64_t at = pos_;
    uint64_t len = read_le<uint64_t>("a string length", context);
    if (len > remaining()) {
      // A length beyond the whole file is corruption; one merely past the end is truncation.
      if (len > bytes_.size())
        fail("string length " + std::to_string(len) + " is larger than the whole file (" +
                 std::to_string(bytes_.size()) + " bytes)",
             at, context, kHintCorrupt);
      fail("file ends inside a string of " + std::to_string(len) + " bytes (" + std::to_string(remaining()) +
               " left)",
           at, context, kHintTruncated);
    }
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<size_t>(len));
    pos_ += len;
    return s;
  }

  GGUFType read_type_id(const std::string& context, const char* role) {
    uint64_t at = pos_;
    uint32_t id = read_le<uint32_t>(role, context);
    if (!valid_type_id(id))
      fail("unknown metadata value type " + std::to_string(id) + " (" + role + ")", at, context,
           "valid GGUF value types are 0..12; the file is corrupt or from a newer GGUF revision");
    return static_cast<GGUFType>(id);
  }

  GGUFValue read_value(GGUFType type, const std::string& context, int depth) {
    switch (type) {
      case GGUFType::UINT8: return GGUFValue::u8(read_le<uint8_t>("a u8 value", context));
      case GGUFType::INT8: return GGUFValue::i8(read_le<int8_t>("an i8 value", context));
      case GGUFType::UINT16: return GGUFValue::u16(read_le<uint16_t>("a u16 value", context));
      case GGUFType::INT16: return GGUFValue::i16(read_le<int16_t>("an i16 value", context));
      case GGUFType::UINT32: return GGUFValue::u32(read_le<uint32_t>("a u32 value", context));
      case GGUFType::INT32: return GGUFValue::i32(read_le<int32_t>("an i32 value", context));
      case GGUFType::FLOAT32: return GGUFValue::f32(read_le<float>("an f32 value", context));
      case GGUFType::UINT64: return GGUFValue::u64(read_le<uint64_t>("a u64 value", context));
      case GGUFType::INT64: return GGUFValue::i64(read_le<int64_t>("an i64 value", context));
      case GGUFType::FLOAT64: return GGUFValue::f64(read_le<double>("an f64 value", context));
      case GGUFType::BOOL: {
        uint64_t at = pos_;
        uint8_t b = read_le<uint8_t>("a bool value", context);
        if (b > 1)
          fail("bool value " + std::to_string(b) + " is neither 0 nor 1", at, context, kHintCorrupt);
        return GGUFValue::boolean(b == 1);
      }
      case GGUFType::STRING: return GGUFValue::string(read_string(context));
      case GGUFType::ARRAY: return read_array(context, depth);
    }
    fail("unreachable value type", pos_, context, kHintCorrupt);
  }

  GGUFValue read_array(const std::string& context, int depth) {
    if (depth >= kMaxArrayDepth)
      fail("arrays nested deeper than " + std::to_string(kMaxArrayDepth) + " levels", pos_, context, kHintCorrupt);
    GGUFType elem = read_type_id(context, "an array element type");
    uint64_t count_at = pos_;
    uint64_t count = read_le<uint64_t>("an array count", context);
    // Bound the count by the bytes left before allocating anything: a forged count of 2^60
    // must fail here, not in the allocator.
    uint64_t min_elem = min_encoded_size(elem);
    if (count > remaining() / min_elem)
      fail("array count " + std::to_string(count) + " of " + std::string(gguf_type_name(elem)) +
               " needs at least " +
               (checked_mul(count, min_elem) ? std::to_string(count * min_elem) : std::string("2^64")) +
               " bytes but only " + std::to_string(remaining()) + " remain",
           count_at, context, kHintCorrupt);
    total_elements_ += count;  // cannot wrap: each count is below the file size
    if (total_elements_ > kMaxMetadataElements)
      fail("metadata arrays hold more than " + std::to_string(kMaxMetadataElements) + " elements in total",
           count_at, context, "paw refuses this much metadata to bound memory; the file is likely corrupt");
    GGUFValue::Array elems;
    elems.reserve(static_cast<size_t>(count));
    for (uint64_t i = 0; i < count; ++i) elems.push_back(read_value(elem, context, depth + 1));
    return GGUFValue::array(elem, std::move(elems));
  }

  void read_header(GGUFFile& f) {
    if (bytes_.size() >= 4 && std::memcmp(bytes_.data(), "GGUF", 4) != 0) {
      char shown[64];
      const uint8_t* b = bytes_.data();
      std::snprintf(shown, sizeof shown, "%02x %02x %02x %02x", b[0], b[1], b[2], b[3]);
      std::string hint = "expected the bytes \"GGUF\"; is this really a .gguf model or adapter?";
      // ggml's pre-GGUF formats stored their magic as a little-endian u32.
      if (!std::memcmp(b, "lmgg", 4) || !std::memcmp(b, "fmgg", 4) || !std::memcmp(b, "tjgg", 4))
        hint = "this is a pre-GGUF ggml/ggmf/ggjt file; convert it to GGUF with llama.cpp";
      fail("not a GGUF file (bad magic " + std::string(shown) + ")", 0, "header", hint);
    }
    auto truncated_header = [&] {
      fail("truncated header: the file has " + std::to_string(bytes_.size()) + " bytes but a GGUF header needs 24",
           0, "header", kHintTruncated);
    };
    if (bytes_.size() < 8) truncated_header();
    pos_ = 4;
    uint32_t version = read_le<uint32_t>("the version", "header");
    if (version == 1)
      fail("GGUF version 1 is not supported", 4, "header",
           "v1 used 32-bit counts; re-convert the model with a current llama.cpp to get v3");
    // A big-endian file's small version number reads as a huge one with the low half zero.
    if (version != 0 && (version & 0xFFFFu) == 0)
      fail("big-endian GGUF is not supported", 4, "header", "convert the file to little-endian GGUF");
    if (version != 2 && version != 3)
      fail("unsupported GGUF version " + std::to_string(version) + " (paw reads versions 2 and 3)", 4, "header",
           "the file is corrupt or written by a newer tool");
    if (bytes_.size() < 24) truncated_header();
    f.version_ = version;
    n_tensors_ = read_le<uint64_t>("the tensor count", "header");
    n_kv_ = read_le<uint64_t>("the metadata count", "header");
    // Cheapest encodings: a key/value is at least 8 (key length) + 4 (type) + 1 bytes, a
    // directory entry at least 8 (name length) + 4 (n_dims) + 8 (ne[0]) + 4 (type) + 8 (offset).
    constexpr uint64_t kMinKv = 13, kMinTensor = 32;
    if (n_kv_ > remaining() / kMinKv)
      fail("metadata count " + std::to_string(n_kv_) + " cannot fit in the " + std::to_string(remaining()) +
               " bytes that follow the header",
           16, "header", kHintCorrupt);
    if (n_tensors_ > (remaining() - n_kv_ * kMinKv) / kMinTensor)
      fail("tensor count " + std::to_string(n_tensors_) + " cannot fit in the " + std::to_string(remaining()) +
               " bytes that follow the header",
           8, "header", kHintCorrupt);
  }

  void read_metadata(GGUFFile& f) {
    std::unordered_set<std::string> seen;
    for (uint64_t i = 0; i < n_kv_; ++i) {
      uint64_t key_at = pos_;
      std::string key = read_string("key #" + std::to_string(i));
      std::string ctx = "key " + quoted(key);
      if (!seen.insert(key).second)
        fail("duplicate metadata key " + quoted(key), key_at, ctx,
             "each key may appear once; the file was written by a broken tool");
      GGUFType type = read_type_id(ctx, "a value type");
      kv_value_offsets_.push_back(pos_);
      GGUFValue v = read_value(type, ctx, 0);
      f.kv_.emplace_back(std::move(key), std::move(v));
    }
  }

  void resolve_alignment(GGUFFile& f) {
    f.alignment_ = 32;
    for (size_t i = 0; i < f.kv_.size(); ++i) {
      if (f.kv_[i].first != "general.alignment") continue;
      const GGUFValue& v = f.kv_[i].second;
      std::string ctx = "key 'general.alignment'";
      if (v.type() != GGUFType::UINT32)
        fail("general.alignment must be u32, found " + std::string(gguf_type_name(v.type())), kv_value_offsets_[i],
             ctx, "llama.cpp reads general.alignment as u32; fix the writer");
      uint64_t a = v.as_u64();
      if (a == 0 || (a & (a - 1)) != 0)
        fail("general.alignment " + std::to_string(a) + " is not a non-zero power of two", kv_value_offsets_[i], ctx,
             kHintCorrupt);
      f.alignment_ = a;
    }
  }

  void read_directory(GGUFFile& f) {
    std::unordered_set<std::string> seen;
    for (uint64_t i = 0; i < n_tensors_; ++i) {
      uint64_t info_at = pos_;
      tensor_info_offsets_.push_back(info_at);
      GGUFTensorInfo t;
      t.name = read_string("tensor #" + std::to_string(i) + " name");
      std::string ctx = "tensor " + quoted(t.name);
      if (!seen.insert(t.name).second)
        fail("duplicate tensor name " + quoted(t.name), info_at, ctx,
             "each tensor name may appear once; the file was written by a broken tool");

      uint64_t dims_at = pos_;
      uint32_t n_dims = read_le<uint32_t>("n_dims", ctx);
      if (n_dims < 1 || n_dims > kMaxDims)
        fail("n_dims " + std::to_string(n_dims) + " is out of range 1.." + std::to_string(kMaxDims), dims_at, ctx,
             kHintCorrupt);
      // The product runs over max(ne, 1) so that rows() cannot overflow even when ne[0] == 0.
      int64_t n_elem = 1;
      for (uint32_t d = 0; d < n_dims; ++d) {
        uint64_t ne_at = pos_;
        int64_t ne = read_le<int64_t>("a dimension", ctx);
        if (ne < 0)
          fail("ne[" + std::to_string(d) + "] = " + std::to_string(ne) + " is negative", ne_at, ctx, kHintCorrupt);
        if (__builtin_mul_overflow(n_elem, ne > 0 ? ne : 1, &n_elem))
          fail("element count overflows 64 bits at ne[" + std::to_string(d) + "]", ne_at, ctx, kHintCorrupt);
        t.ne.push_back(ne);
      }

      uint64_t type_at = pos_;
      uint32_t type_id = read_le<uint32_t>("the tensor type", ctx);
      auto tr = dtype_traits(type_id);
      if (!tr)
        fail("tensor " + quoted(t.name) + " has unknown type id " + std::to_string(type_id), type_at, ctx,
             "paw knows ggml types f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 q8_1 q2_K..q8_K i8..i64 f64; "
             "re-quantize the model to one of them");
      t.type = tr->type;
      if (t.ne[0] % tr->block_size != 0)
        fail("ne[0] = " + std::to_string(t.ne[0]) + " is not a multiple of the " + std::string(tr->name) +
                 " block size " + std::to_string(tr->block_size),
             type_at, ctx, kHintCorrupt);

      uint64_t off_at = pos_;
      t.offset = read_le<uint64_t>("the data offset", ctx);
      if (t.offset % f.alignment_ != 0)
        fail("data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                 std::to_string(f.alignment_),
             off_at, ctx, "tensor data must be aligned to general.alignment (default 32)");

      // n_bytes = row bytes * rows; ne[0] % block_size == 0 was checked so row_bytes succeeds.
      uint64_t rows = 1;
      for (size_t d = 1; d < t.ne.size(); ++d) rows *= static_cast<uint64_t>(t.ne[d]);  // bounded above, no wrap
      auto row = checked_mul(static_cast<uint64_t>(t.ne[0]) / static_cast<uint64_t>(tr->block_size), tr->type_size);
      auto n_bytes = row ? checked_mul(*row, rows) : std::nullopt;
      if (!n_bytes) fail("data size overflows 64 bits", type_at, ctx, kHintCorrupt);
      t.n_bytes = *n_bytes;
      f.tensors_.push_back(std::move(t));
    }
  }

  void place_tensors(GGUFFile& f) {
    auto data_offset = checked_align_up(pos_, f.alignment_);
    if (!data_offset) fail("data section offset overflows", pos_, "data section", kHintCorrupt);
    f.data_offset_ = *data_offset;
    const uint64_t size = bytes_.size();
    for (size_t i = 0; i < f.tensors_.size(); ++i) {
      GGUFTensorInfo& t = f.tensors_[i];
      std::string ctx = "tensor " + quoted(t.name);
      auto start = checked_add(f.data_offset_, t.offset);
      auto end = start ? checked_add(*start, t.n_bytes) : std::nullopt;
      if (!end || *end > size)
        fail("tensor data runs past end of file: needs bytes [" +
                 (start ? std::to_string(*start) : std::string("2^64+")) + ", " +
                 (end ? std::to_string(*end) : std::string("2^64+")) + ") but the file has " + std::to_string(size),
             tensor_info_offsets_[i], ctx, kHintTruncated);
      t.file_offset = *start;
      t.data = bytes_.data() + *start;
    }
  }
};

int64_t GGUFTensorInfo::n_elements() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;  // validated by the reader not to overflow
  return n;
}

int64_t GGUFTensorInfo::rows() const {
  int64_t n = 1;
  for (size_t d = 1; d < ne.size(); ++d) n *= ne[d];
  return n;
}

GGUFFile GGUFFile::parse(std::span<const uint8_t> bytes, const std::string& name) {
  GGUFFile f;
  GGUFParser(bytes, name).run(f);
  return f;
}

GGUFFile GGUFFile::open(const std::string& path) {
  auto map = std::make_shared<MappedFile>(MappedFile::open(path));
  GGUFFile f = parse(map->bytes(), path);
  f.map_ = std::move(map);
  return f;
}

const GGUFValue* GGUFFile::find(std::string_view key) const {
  for (const auto& [k, v] : kv_)
    if (k == key) return &v;
  return nullptr;
}

const GGUFValue& GGUFFile::get(std::string_view key) const {
  if (const GGUFValue* v = find(key)) return *v;
  throw Error("missing metadata key " + quoted(key), name_,
              "the file lacks a key paw needs; was it written for a different architecture or tool?");
}

namespace {
// Runs a typed accessor, re-throwing its type error with the file and key attached.
template <class F>
auto with_key(const std::string& file, std::string_view key, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    throw Error(e.what_failed(), file + " (key " + quoted(key) + ")", e.hint());
  }
}
}  // namespace

std::string GGUFFile::get_string(std::string_view key) const {
  const GGUFValue& v = get(key);
  return with_key(name_, key, [&] { return v.as_string(); });
}

uint64_t GGUFFile::get_u64(std::string_view key) const {
  const GGUFValue& v = get(key);
  return with_key(name_, key, [&] { return v.as_u64(); });
}

double GGUFFile::get_f64(std::string_view key) const {
  const GGUFValue& v = get(key);
  return with_key(name_, key, [&] { return v.as_f64(); });
}

// The *_or lookups default only when the key is absent: a present key of the wrong type is
// still an error, because silently ignoring it would hide a broken file.
std::string GGUFFile::get_string_or(std::string_view key, std::string def) const {
  return find(key) ? get_string(key) : def;
}

uint64_t GGUFFile::get_u64_or(std::string_view key, uint64_t def) const { return find(key) ? get_u64(key) : def; }

double GGUFFile::get_f64_or(std::string_view key, double def) const { return find(key) ? get_f64(key) : def; }

const GGUFTensorInfo* GGUFFile::find_tensor(std::string_view name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

void GGUFFile::release(const uint8_t* p, size_t n) const noexcept {
  if (map_) map_->release(p, n);
}

}  // namespace paw
