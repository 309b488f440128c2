// GGUF v3 writer. Layout matches what llama.cpp's gguf reader requires: header, metadata,
// tensor directory, zero padding to general.alignment, then tensor data in directory order
// with each tensor's offset equal to the running sum of the previous tensors' sizes padded
// to the alignment (llama.cpp refuses any other offsets), padding bytes zero.

#include "paw/formats/gguf.hpp"
#include "paw/tensor/quantize.hpp"
#include "paw/util/atomic_file.hpp"
#include "paw/util/checked_math.hpp"
#include "paw/util/error.hpp"

namespace paw {

namespace {

constexpr size_t kMaxTensorName = 63;  // llama.cpp: names must be shorter than GGML_MAX_NAME (64)
constexpr uint32_t kMaxDims = 4;       // GGML_MAX_DIMS

bool is_power_of_two(uint64_t a) { return a != 0 && (a & (a - 1)) == 0; }

// Collects bytes through the sink callback, tracking position for padding.
struct Out {
  void (*sink)(void*, const void*, size_t);
  void* ctx;
  uint64_t pos = 0;

  void bytes(const void* p, size_t n) {
    if (n == 0) return;
    sink(ctx, p, n);
    pos += n;
  }
  template <class T>
  void le(T v) {
    bytes(&v, sizeof v);  // host is little-endian (x86-64, arm64)
  }
  void str(const std::string& s) {
    le<uint64_t>(s.size());
    bytes(s.data(), s.size());
  }
  void pad_to(uint64_t alignment) {
    static const uint8_t zeros[256] = {};
    uint64_t n = (alignment - pos % alignment) % alignment;
    while (n > 0) {
      size_t k = n < sizeof zeros ? static_cast<size_t>(n) : sizeof zeros;
      bytes(zeros, k);
      n -= k;
    }
  }
};

// Writes the payload of a value whose type tag has already been written.
void emit_value(Out& o, const GGUFValue& v) {
  switch (v.type()) {
    case GGUFType::UINT8: o.le(static_cast<uint8_t>(v.as_u64())); break;
    case GGUFType::INT8: o.le(static_cast<int8_t>(v.as_i64())); break;
    case GGUFType::UINT16: o.le(static_cast<uint16_t>(v.as_u64())); break;
    case GGUFType::INT16: o.le(static_cast<int16_t>(v.as_i64())); break;
    case GGUFType::UINT32: o.le(static_cast<uint32_t>(v.as_u64())); break;
    case GGUFType::INT32: o.le(static_cast<int32_t>(v.as_i64())); break;
    case GGUFType::UINT64: o.le(v.as_u64()); break;
    case GGUFType::INT64: o.le(v.as_i64()); break;
    case GGUFType::FLOAT32: o.le(static_cast<float>(v.as_f64())); break;
    case GGUFType::FLOAT64: o.le(v.as_f64()); break;
    case GGUFType::BOOL: o.le(static_cast<uint8_t>(v.as_bool() ? 1 : 0)); break;
    case GGUFType::STRING: o.str(v.as_string()); break;
    case GGUFType::ARRAY: {
      const auto& a = v.as_array();
      o.le(static_cast<uint32_t>(v.elem_type()));
      o.le(static_cast<uint64_t>(a.size()));
      for (const auto& e : a) emit_value(o, e);  // elements carry no per-element type tag
      break;
    }
  }
}

uint64_t padded(uint64_t n, uint64_t alignment) {
  auto r = checked_align_up(n, alignment);
  if (!r) throw Error("tensor data size overflows", "GGUF writer");
  return *r;
}

}  // namespace

GGUFWriter::GGUFWriter() = default;

void GGUFWriter::set(std::string key, GGUFValue value) {
  if (key.empty()) throw Error("empty metadata key", "GGUF writer", "every GGUF key needs a name");
  if (key == "general.alignment") {
    if (value.type() != GGUFType::UINT32 || !is_power_of_two(value.as_u64()))
      throw Error("general.alignment must be a u32 non-zero power of two, got " +
                      std::string(gguf_type_name(value.type())) + " " + value.to_display(),
                  "GGUF writer", "use set_alignment()");
    alignment_ = static_cast<uint32_t>(value.as_u64());
  }
  for (auto& kv : kv_) {
    if (kv.first == key) {
      kv.second = std::move(value);
      return;
    }
  }
  kv_.emplace_back(std::move(key), std::move(value));
}

void GGUFWriter::set_alignment(uint32_t alignment) { set("general.alignment", GGUFValue::u32(alignment)); }

void GGUFWriter::add_tensor(std::string name, DType type, std::vector<int64_t> ne, const void* data,
                            size_t n_bytes) {
  std::string where = "GGUF writer: tensor '" + name + "'";
  if (name.empty()) throw Error("empty tensor name", "GGUF writer", "every tensor needs a name");
  if (name.size() > kMaxTensorName)
    throw Error("tensor name is " + std::to_string(name.size()) + " bytes; llama.cpp allows at most " +
                    std::to_string(kMaxTensorName),
                where, "shorten the name");
  for (const auto& t : tensors_)
    if (t.name == name) throw Error("duplicate tensor name", where, "each tensor name may be added once");
  if (ne.empty() || ne.size() > kMaxDims)
    throw Error("tensor has " + std::to_string(ne.size()) + " dimensions; GGUF allows 1..4", where);
  const DTypeTraits& tr = traits(type);
  uint64_t rows = 1;
  for (size_t d = 0; d < ne.size(); ++d) {
    if (ne[d] < 0) throw Error("ne[" + std::to_string(d) + "] is negative", where);
    if (d > 0) {
      auto r = checked_mul(rows, static_cast<uint64_t>(ne[d]));
      if (!r) throw Error("tensor shape overflows", where);
      rows = *r;
    }
  }
  auto row = row_bytes(type, ne[0]);
  if (!row)
    throw Error("ne[0] = " + std::to_string(ne[0]) + " is not a multiple of the " + std::string(tr.name) +
                    " block size " + std::to_string(tr.block_size),
                where, "quantized rows must hold whole blocks");
  auto expect = checked_mul(*row, rows);
  if (!expect || *expect != n_bytes)
    throw Error("data is " + std::to_string(n_bytes) + " bytes but the shape and type need " +
                    (expect ? std::to_string(*expect) : std::string("more than 2^64")),
                where);
  if (n_bytes > 0 && data == nullptr) throw Error("null tensor data", where);
  PendingTensor t{std::move(name), type, std::move(ne), {}};
  if (n_bytes > 0) {
    const auto* p = static_cast<const uint8_t*>(data);
    t.data.assign(p, p + n_bytes);
  }
  tensors_.push_back(std::move(t));
}

void GGUFWriter::add_tensor_f32(std::string name, DType type, std::vector<int64_t> ne, const float* values) {
  std::string where = "GGUF writer: tensor '" + name + "'";
  const DTypeTraits& tr = traits(type);
  if (!tr.can_quantize)
    throw Error("paw cannot quantize to " + std::string(tr.name), where,
                "pick f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1 or a K-quant paw supports");
  if (ne.empty() || ne.size() > kMaxDims)
    throw Error("tensor has " + std::to_string(ne.size()) + " dimensions; GGUF allows 1..4", where);
  uint64_t rows = 1;
  for (size_t d = 0; d < ne.size(); ++d) {
    if (ne[d] < 0) throw Error("ne[" + std::to_string(d) + "] is negative", where);
    if (d > 0) {
      auto r = checked_mul(rows, static_cast<uint64_t>(ne[d]));
      if (!r) throw Error("tensor shape overflows", where);
      rows = *r;
    }
  }
  auto row = row_bytes(type, ne[0]);
  if (!row)
    throw Error("ne[0] = " + std::to_string(ne[0]) + " is not a multiple of the " + std::string(tr.name) +
                    " block size " + std::to_string(tr.block_size),
                where, "quantized rows must hold whole blocks");
  auto total = checked_mul(*row, rows);
  if (!total) throw Error("tensor shape overflows", where);
  std::vector<uint8_t> buf(static_cast<size_t>(*total));
  // One row at a time: quantize_row's blocks never straddle rows, matching ggml's layout.
  for (uint64_t r = 0; r < rows && ne[0] > 0; ++r)
    quantize_row(type, values + r * static_cast<uint64_t>(ne[0]), buf.data() + r * *row, ne[0]);
  add_tensor(std::move(name), type, std::move(ne), buf.data(), buf.size());
}

void GGUFWriter::emit(void (*sink)(void*, const void*, size_t), void* ctx) const {
  Out o{sink, ctx};
  o.bytes("GGUF", 4);
  o.le<uint32_t>(3);
  o.le<uint64_t>(tensors_.size());
  o.le<uint64_t>(kv_.size());
  for (const auto& [key, value] : kv_) {
    o.str(key);
    o.le(static_cast<uint32_t>(value.type()));
    emit_value(o, value);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    o.str(t.name);
    o.le<uint32_t>(static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) o.le<int64_t>(d);
    o.le<uint32_t>(static_cast<uint32_t>(t.type));
    o.le<uint64_t>(offset);
    offset += padded(t.data.size(), alignment_);
  }
  o.pad_to(alignment_);
  for (const auto& t : tensors_) {
    o.bytes(t.data.data(), t.data.size());
    o.pad_to(alignment_);
  }
}

std::vector<uint8_t> GGUFWriter::to_bytes() const {
  std::vector<uint8_t> out;
  emit(
      [](void* ctx, const void* p, size_t n) {
        auto* v = static_cast<std::vector<uint8_t>*>(ctx);
        const auto* b = static_cast<const uint8_t*>(p);
        v->insert(v->end(), b, b + n);
      },
      &out);
  return out;
}

void GGUFWriter::write(const std::string& path) const {
  // Streams into a temp file renamed over `path` on success: no second copy of the tensors in
  // memory, and a reader never sees a half-written model.
  AtomicFileWriter w(path);
  emit([](void* ctx, const void* p, size_t n) { static_cast<AtomicFileWriter*>(ctx)->write(p, n); }, &w);
  w.commit();
}

}  // namespace paw
