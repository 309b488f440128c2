// safetensors writer. Byte layout follows the reference implementation: compact JSON,
// "__metadata__" first, tensor entries {"dtype","shape","data_offsets"}, the header padded
// with spaces to a multiple of 8 so the data section starts 8-aligned. Tensors are packed
// largest element size first, then by name (the reference orders by dtype, then name): with
// sizes 8, 4, 2, 1 in that order every tensor starts aligned to its own element size, so a
// mapped F32/F64 tensor can be read in place.
#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "paw/formats/safetensors.hpp"
#include "paw/tensor/half.hpp"
#include "paw/util/atomic_file.hpp"
#include "paw/util/checked_math.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

constexpr const char* kWhere = "safetensors writer";

uint64_t checked_numel(const std::string& name, const std::vector<int64_t>& shape) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw Error("negative dimension " + std::to_string(d), std::string(kWhere) + ": tensor '" + name + "'");
    auto p = checked_mul(n, static_cast<uint64_t>(d));
    if (!p || *p > static_cast<uint64_t>(INT64_MAX))
      throw Error("element count overflows", std::string(kWhere) + ": tensor '" + name + "'");
    n = *p;
  }
  return n;
}

}  // namespace

std::vector<std::pair<const std::string*, const SafetensorsWriter::Pending*>> SafetensorsWriter::file_order() const {
  std::vector<std::pair<const std::string*, const Pending*>> order;
  for (const auto& [name, t] : tensors_) order.emplace_back(&name, &t);
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return st_dtype_size(a.second->dtype) > st_dtype_size(b.second->dtype);  // stable: name order within a size
  });
  return order;
}

void SafetensorsWriter::set_metadata(std::string key, std::string value) {
  metadata_[std::move(key)] = std::move(value);
}

void SafetensorsWriter::add_tensor(std::string name, STDType dtype, std::vector<int64_t> shape, const void* data,
                                   size_t n_bytes) {
  std::string where = std::string(kWhere) + ": tensor '" + name + "'";
  if (name.empty() || name == "__metadata__")
    throw Error("invalid tensor name", where, "'' and '__metadata__' cannot name a tensor");
  if (tensors_.count(name)) throw Error("duplicate tensor name", where, "add each tensor once");
  auto want = checked_mul(checked_numel(name, shape), st_dtype_size(dtype));
  if (!want || *want != n_bytes)
    throw Error("got " + std::to_string(n_bytes) + " bytes but the shape needs " +
                    (want ? std::to_string(*want) : std::string("more than 2^64")),
                where, "pass numel(shape) * element size bytes");
  Pending p{dtype, std::move(shape), {}};
  p.data.resize(n_bytes);
  if (n_bytes) std::memcpy(p.data.data(), data, n_bytes);
  tensors_.emplace(std::move(name), std::move(p));
}

void SafetensorsWriter::add_f32(std::string name, std::vector<int64_t> shape, std::span<const float> values,
                                STDType store_as) {
  std::vector<uint8_t> bytes(values.size() * st_dtype_size(store_as));
  uint8_t* out = bytes.data();
  switch (store_as) {
    case STDType::F32:
      if (!values.empty()) std::memcpy(out, values.data(), values.size() * 4);
      break;
    case STDType::F16:
    case STDType::BF16:
      for (size_t i = 0; i < values.size(); ++i) {
        uint16_t h = store_as == STDType::F16 ? f32_to_f16(values[i]) : f32_to_bf16(values[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      break;
    case STDType::F64:
      for (size_t i = 0; i < values.size(); ++i) {
        double d = values[i];
        std::memcpy(out + 8 * i, &d, 8);
      }
      break;
    default:
      throw Error("cannot store float32 values as " + std::string(st_dtype_name(store_as)),
                  std::string(kWhere) + ": tensor '" + name + "'", "use F32, F16, BF16 or F64");
  }
  add_tensor(std::move(name), store_as, std::move(shape), bytes.data(), bytes.size());
}

std::string SafetensorsWriter::header_json() const {
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!metadata_.empty()) h["__metadata__"] = metadata_;
  uint64_t offset = 0;
  for (const auto& [name, t] : file_order()) {
    nlohmann::ordered_json e;
    e["dtype"] = st_dtype_name(t->dtype);
    e["shape"] = t->shape;
    e["data_offsets"] = {offset, offset + t->data.size()};
    offset += t->data.size();
    h[*name] = std::move(e);
  }
  std::string s;
  try {
    s = h.dump();
  } catch (const nlohmann::json::type_error& e) {
    throw Error(std::string("cannot encode the header: ") + e.what(), kWhere,
                "tensor names and metadata must be valid UTF-8");
  }
  s.append((8 - s.size() % 8) % 8, ' ');
  if (s.size() > kSafetensorsMaxHeader)
    throw Error("header of " + std::to_string(s.size()) + " bytes exceeds the format's cap", kWhere,
                "readers refuse headers over 100 MB; write fewer tensors or less metadata");
  return s;
}

std::vector<uint8_t> SafetensorsWriter::to_bytes() const {
  std::string header = header_json();
  uint64_t n = header.size();
  auto order = file_order();
  size_t total = 8 + header.size();
  for (const auto& [name, t] : order) total += t->data.size();
  std::vector<uint8_t> out;
  out.reserve(total);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(n >> (8 * i)));  // u64 LE
  out.insert(out.end(), header.begin(), header.end());
  for (const auto& [name, t] : order) out.insert(out.end(), t->data.begin(), t->data.end());
  return out;
}

void SafetensorsWriter::write(const std::string& path) const {
  std::string header = header_json();
  uint64_t n = header.size();
  AtomicFileWriter w(path);
  w.write(&n, 8);
  w.write(header);
  for (const auto& [name, t] : file_order()) w.write(t->data.data(), t->data.size());
  w.commit();
}

}  // namespace paw
