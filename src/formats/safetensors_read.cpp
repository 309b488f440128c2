// safetensors reader: validates the header completely before any tensor is handed out,
// so later code can trust every shape, dtype and byte range (docs/FORMATS.md).
#include <algorithm>
#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "paw/formats/safetensors.hpp"
#include "paw/util/checked_math.hpp"
#include "paw/util/error.hpp"

namespace paw {

static_assert(std::endian::native == std::endian::little, "safetensors is little-endian; paw assumes an LE host");

namespace {

using json = nlohmann::json;

// Names come from untrusted files: keep messages one readable line.
std::string quote_name(std::string_view s) {
  std::string out = "'";
  for (char c : s.substr(0, 120)) out.push_back(static_cast<unsigned char>(c) < 0x20 ? '?' : c);
  if (s.size() > 120) out += "...";
  return out + "'";
}

std::string tensor_where(const std::string& file, std::string_view tensor, std::string_view field) {
  std::string w = file + ": tensor " + quote_name(tensor);
  if (!field.empty()) w += ", field '" + std::string(field) + "'";
  return w;
}

constexpr const char* kHintCorrupt = "the file is corrupt or was not written by a safetensors writer";

// A JSON number that is a non-negative integer (nlohmann keeps integers exact up to u64).
std::optional<uint64_t> as_index(const json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return static_cast<uint64_t>(v.get<int64_t>());
  return std::nullopt;
}

// Parse callback: rejects duplicate keys in any object (nlohmann would silently keep the
// last one, hiding a conflicting tensor entry) and absurd nesting.
class DuplicateKeyGuard {
 public:
  explicit DuplicateKeyGuard(const std::string& file) : file_(file) {}
  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    if (depth > 64)
      throw Error("JSON header nests deeper than 64 levels", at_offset(file_, 8), kHintCorrupt);
    switch (event) {
      case json::parse_event_t::object_start: keys_.emplace_back(); break;
      case json::parse_event_t::object_end: keys_.pop_back(); break;
      case json::parse_event_t::key: {
        const auto& key = parsed.get_ref<const std::string&>();
        if (!keys_.back().insert(key).second) {
          std::string what = depth == 1 ? "duplicate tensor name " + quote_name(key)
                                        : "duplicate key " + quote_name(key) + " in a JSON object";
          throw Error(what, file_ + ": JSON header", "each tensor may appear only once in the header");
        }
        break;
      }
      default: break;
    }
    return true;
  }

 private:
  const std::string& file_;
  std::vector<std::set<std::string>> keys_;
};

}  // namespace

int64_t SafetensorsTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // validated at parse time not to overflow
  return n;
}

class SafetensorsParser {
 public:
  SafetensorsParser(std::span<const uint8_t> bytes, const std::string& name) : b_(bytes), name_(name) {}

  SafetensorsFile run() {
    SafetensorsFile f;
    f.bytes_ = b_;
    f.name_ = name_;
    if (b_.size() < 8)
      throw Error("file is too small for a safetensors header (" + std::to_string(b_.size()) +
                      " bytes; the 8-byte header length is missing)",
                  at_offset(name_, 0), "the file is truncated or is not a safetensors file");
    uint64_t n = 0;
    std::memcpy(&n, b_.data(), 8);
    if (n > kSafetensorsMaxHeader)
      throw Error("header length " + std::to_string(n) + " exceeds the cap of " +
                      std::to_string(kSafetensorsMaxHeader) + " bytes",
                  at_offset(name_, 0), "this is not a safetensors file, or its first 8 bytes are corrupt");
    if (n > b_.size() - 8)
      throw Error("header length " + std::to_string(n) + " runs past the end of the file (" +
                      std::to_string(b_.size()) + " bytes)",
                  at_offset(name_, 0), "the file is truncated; download or write it again");
    f.header_size_ = n;
    data_ = b_.subspan(8 + n);

    std::string_view text(reinterpret_cast<const char*>(b_.data() + 8), n);
    if (text.empty() || text.front() != '{')
      throw Error("JSON header does not start with '{'", at_offset(name_, 8), kHintCorrupt);
    json root;
    try {
      root = json::parse(text.begin(), text.end(), DuplicateKeyGuard(name_));
    } catch (const json::parse_error& e) {
      throw Error(std::string("JSON header is not valid JSON: ") + e.what(),
                  at_offset(name_, 8 + (e.byte > 0 ? e.byte - 1 : 0)), kHintCorrupt);
    } catch (const json::exception& e) {  // e.g. out_of_range: a number literal past double's range
      throw Error(std::string("JSON header is not valid JSON: ") + e.what(), name_ + ": JSON header", kHintCorrupt);
    }
    if (!root.is_object())  // cannot happen after the '{' check, kept for clarity
      throw Error("JSON header is not an object", at_offset(name_, 8), kHintCorrupt);

    for (const auto& [key, value] : root.items()) {  // std::map order: sorted by name
      if (key == "__metadata__") {
        read_metadata(value, f.metadata_);
      } else {
        f.tensors_.push_back(read_tensor(key, value));
      }
    }
    check_overlaps(f.tensors_);
    return f;
  }

 private:
  void read_metadata(const json& v, std::map<std::string, std::string>& out) {
    if (v.is_null()) return;
    std::string where = name_ + ": JSON header, field '__metadata__'";
    if (!v.is_object()) throw Error("'__metadata__' must be an object of strings", where, kHintCorrupt);
    for (const auto& [k, s] : v.items()) {
      if (!s.is_string())
        throw Error("'__metadata__' value for key " + quote_name(k) + " is a " + s.type_name() + ", not a string",
                    where, "safetensors metadata maps strings to strings");
      out.emplace(k, s.get<std::string>());
    }
  }

  SafetensorsTensor read_tensor(const std::string& key, const json& v) {
    SafetensorsTensor t;
    t.name = key;
    if (!v.is_object())
      throw Error(std::string("header entry is a ") + v.type_name() + ", not an object", tensor_where(name_, key, ""),
                  kHintCorrupt);

    auto field = [&](const char* f) -> const json& {
      auto it = v.find(f);
      if (it == v.end()) throw Error(std::string("missing field '") + f + "'", tensor_where(name_, key, f), kHintCorrupt);
      return *it;
    };

    const json& dt = field("dtype");
    if (!dt.is_string()) throw Error("dtype is not a string", tensor_where(name_, key, "dtype"), kHintCorrupt);
    auto dtype = st_dtype_from_name(dt.get_ref<const std::string&>());
    if (!dtype)
      throw Error("unknown dtype " + quote_name(dt.get_ref<const std::string&>()), tensor_where(name_, key, "dtype"),
                  "known dtypes: F64 F32 F16 BF16 I64 I32 I16 I8 U64 U32 U16 U8 BOOL F8_E4M3 F8_E5M2");
    t.dtype = *dtype;

    const json& sh = field("shape");
    if (!sh.is_array()) throw Error("shape is not an array", tensor_where(name_, key, "shape"), kHintCorrupt);
    uint64_t numel = 1;
    for (const auto& d : sh) {
      auto dim = as_index(d);
      if (!dim)
        throw Error("shape entry " + d.dump() + " is not a non-negative integer", tensor_where(name_, key, "shape"),
                    kHintCorrupt);
      auto prod = checked_mul(numel, *dim);
      if (!prod || *prod > static_cast<uint64_t>(INT64_MAX))
        throw Error("element count of shape " + sh.dump() + " overflows", tensor_where(name_, key, "shape"),
                    kHintCorrupt);
      numel = *prod;
      t.shape.push_back(static_cast<int64_t>(*dim));
    }

    const json& off = field("data_offsets");
    std::optional<uint64_t> b0, e0;
    if (off.is_array() && off.size() == 2) {
      b0 = as_index(off[0]);
      e0 = as_index(off[1]);
    }
    if (!b0 || !e0)
      throw Error("data_offsets " + off.dump() + " is not [begin, end] of non-negative integers",
                  tensor_where(name_, key, "data_offsets"), kHintCorrupt);
    const uint64_t begin = *b0, end = *e0;
    if (begin > end)
      throw Error("data_offsets begin " + std::to_string(begin) + " is after end " + std::to_string(end),
                  tensor_where(name_, key, "data_offsets"), kHintCorrupt);
    if (end > data_.size())
      throw Error("data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                      "] out of range: the data section holds " + std::to_string(data_.size()) + " bytes",
                  tensor_where(name_, key, "data_offsets"), "the file is truncated or its header is corrupt");
    auto want = checked_mul(numel, st_dtype_size(t.dtype));
    if (!want || *want != end - begin)
      throw Error("size mismatch: data_offsets span " + std::to_string(end - begin) + " bytes but shape " +
                      sh.dump() + " of " + std::string(st_dtype_name(t.dtype)) + " needs " +
                      (want ? std::to_string(*want) : std::string("more than 2^64")),
                  tensor_where(name_, key, "data_offsets"), kHintCorrupt);
    t.begin = begin;
    t.end = end;
    t.file_offset = b_.size() - data_.size() + t.begin;  // 8 + N + begin
    t.data = data_.subspan(t.begin, t.end - t.begin);
    return t;
  }

  // Two tensors sharing bytes would alias silently (a write to one changes the other);
  // the reference implementation refuses that too. Empty tensors occupy no bytes.
  void check_overlaps(const std::vector<SafetensorsTensor>& ts) {
    std::vector<const SafetensorsTensor*> order;
    for (const auto& t : ts)
      if (t.end > t.begin) order.push_back(&t);
    std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
    for (size_t i = 1; i < order.size(); ++i) {
      const auto* prev = order[i - 1];
      const auto* cur = order[i];
      if (cur->begin < prev->end)
        throw Error("data_offsets [" + std::to_string(cur->begin) + ", " + std::to_string(cur->end) +
                        "] overlap tensor " + quote_name(prev->name) + " at [" + std::to_string(prev->begin) + ", " +
                        std::to_string(prev->end) + "]",
                    tensor_where(name_, cur->name, "data_offsets"), kHintCorrupt);
    }
  }

  std::span<const uint8_t> b_;
  std::span<const uint8_t> data_;
  const std::string& name_;
};

SafetensorsFile SafetensorsFile::parse(std::span<const uint8_t> bytes, const std::string& name) {
  return SafetensorsParser(bytes, name).run();
}

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  auto map = std::make_shared<MappedFile>(MappedFile::open(path));
  SafetensorsFile f = parse(map->bytes(), path);
  f.map_ = std::move(map);
  return f;
}

const SafetensorsTensor* SafetensorsFile::find(std::string_view name) const {
  auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                             [](const SafetensorsTensor& t, std::string_view n) { return t.name < n; });
  return it != tensors_.end() && it->name == name ? &*it : nullptr;
}

const SafetensorsTensor& SafetensorsFile::get(std::string_view name) const {
  if (const auto* t = find(name)) return *t;
  throw Error("tensor " + quote_name(name) + " not found (" + std::to_string(tensors_.size()) + " tensors in file)",
              name_, "check the tensor name and that this is the right checkpoint");
}

std::vector<float> SafetensorsFile::to_f32(std::string_view name) const { return st_tensor_to_f32(get(name), name_); }

}  // namespace paw
