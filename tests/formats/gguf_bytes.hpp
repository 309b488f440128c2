#pragma once
// Byte-by-byte GGUF assembly for tests. Deliberately independent of paw::GGUFWriter: the
// layout is spelled out here from the published GGUF spec, so a writer and reader sharing
// the same misunderstanding would still be caught.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace paw::test {

struct GgufBytes {
  std::vector<uint8_t> b;

  size_t size() const { return b.size(); }
  GgufBytes& raw(const void* p, size_t n) {
    const auto* c = static_cast<const uint8_t*>(p);
    b.insert(b.end(), c, c + n);
    return *this;
  }
  // Little-endian encodings written out by shifting, not memcpy, so host order is irrelevant.
  GgufBytes& le(uint64_t v, int n_bytes) {
    for (int i = 0; i < n_bytes; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  GgufBytes& u8(uint8_t v) { return le(v, 1); }
  GgufBytes& u16(uint16_t v) { return le(v, 2); }
  GgufBytes& u32(uint32_t v) { return le(v, 4); }
  GgufBytes& u64(uint64_t v) { return le(v, 8); }
  GgufBytes& i64(int64_t v) { return le(static_cast<uint64_t>(v), 8); }
  GgufBytes& f32(float v) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    return u32(u);
  }
  GgufBytes& f64(double v) {
    uint64_t u;
    std::memcpy(&u, &v, 8);
    return u64(u);
  }
  GgufBytes& str(const std::string& s) {
    u64(s.size());
    return raw(s.data(), s.size());
  }
  // "GGUF", version, tensor count, kv count.
  GgufBytes& header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    raw("GGUF", 4);
    u32(version);
    u64(n_tensors);
    return u64(n_kv);
  }
  // Key + type tag; the caller appends the value.
  GgufBytes& key(const std::string& k, uint32_t type) {
    str(k);
    return u32(type);
  }
  GgufBytes& kv_u32(const std::string& k, uint32_t v) { return key(k, 4).u32(v); }
  GgufBytes& kv_str(const std::string& k, const std::string& v) { return key(k, 8).str(v); }
  // One directory entry.
  GgufBytes& tensor(const std::string& name, const std::vector<int64_t>& ne, uint32_t type, uint64_t offset) {
    str(name);
    u32(static_cast<uint32_t>(ne.size()));
    for (int64_t d : ne) i64(d);
    u32(type);
    return u64(offset);
  }
  GgufBytes& pad(size_t alignment) {
    while (b.size() % alignment) b.push_back(0);
    return *this;
  }
  GgufBytes& zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
};

}  // namespace paw::test
