#pragma once
// Hand assembly of safetensors files for tests, independent of paw::SafetensorsWriter: the
// header text is written out literally, so reader and writer cannot share a mistake.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace paw::test {

// [u64 LE len(header)][header][data]; `header` is used exactly as given (no padding).
inline std::vector<uint8_t> st_file(const std::string& header, const std::vector<uint8_t>& data = {}) {
  std::vector<uint8_t> b;
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(n >> (8 * i)));
  b.insert(b.end(), header.begin(), header.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

// Little-endian bytes of a float32 / u16 / f64 value, for building data sections.
inline void put_f32(std::vector<uint8_t>& b, float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(u >> (8 * i)));
}
inline void put_u16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}
inline void put_f64(std::vector<uint8_t>& b, double v) {
  uint64_t u;
  std::memcpy(&u, &v, 8);
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(u >> (8 * i)));
}

}  // namespace paw::test
