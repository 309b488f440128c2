#pragma once
// Helpers for the tensor tests: little-endian byte builders, bit-exact float comparison,
// binary file I/O for the Python references, and seeded random data.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace paw::test {

inline uint32_t bits_of(float f) { return std::bit_cast<uint32_t>(f); }
inline float float_of(uint32_t u) { return std::bit_cast<float>(u); }

inline void put_u16(std::vector<uint8_t>& b, size_t off, uint16_t v) {
  b[off] = static_cast<uint8_t>(v & 0xFF);
  b[off + 1] = static_cast<uint8_t>(v >> 8);
}

inline uint16_t get_u16(const std::vector<uint8_t>& b, size_t off) {
  return static_cast<uint16_t>(b[off] | b[off + 1] << 8);
}

inline void put_u32(std::vector<uint8_t>& b, size_t off, uint32_t v) {
  for (int k = 0; k < 4; ++k) b[off + k] = static_cast<uint8_t>(v >> (8 * k));
}

inline void write_file(const std::string& path, const void* data, size_t n) {
  std::ofstream f(path, std::ios::binary);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  ASSERT_TRUE(f.good()) << "cannot write " << path;
}

template <class T>
std::vector<T> read_file_as(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<char> raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<T> out(raw.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), raw.data(), out.size() * sizeof(T));
  return out;
}

// Shell-quotes a path for run_command.
inline std::string quoted(const std::string& s) {
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

// A random finite fp16 bit pattern (any sign; normals, subnormals and zeros alike), the kind
// of scale a corrupt-but-finite file could hold.
inline uint16_t random_finite_f16(std::mt19937& rng) {
  for (;;) {
    const auto h = static_cast<uint16_t>(rng());
    if ((h & 0x7C00) != 0x7C00) return h;
  }
}

// A sane positive-or-negative fp16 scale of moderate size: |d| in [2^-12, 2^2].
inline uint16_t random_sane_f16(std::mt19937& rng) {
  const uint16_t exp = static_cast<uint16_t>(3 + rng() % 15);  // biased exponent 3..17
  return static_cast<uint16_t>((rng() & 1) << 15 | exp << 10 | (rng() & 0x3FF));
}

inline std::vector<float> gaussian(std::mt19937& rng, size_t n, float sigma = 1.0f) {
  std::normal_distribution<float> g(0.0f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = g(rng);
  return v;
}

}  // namespace paw::test
