#pragma once
// SHA-256 (OpenSSL) for model/adapter identity, program ids and cache keys.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace paw {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string hex_digest();  // lowercase, 64 chars; finalises the hash

 private:
  void* ctx_;
};

std::string sha256_hex(std::span<const uint8_t> bytes);
std::string sha256_hex(std::string_view bytes);
std::string sha256_file_hex(const std::string& path);  // streams the file
// True when `s` is a digest as the functions above write it: 64 lowercase hex digits.
bool is_sha256_hex(std::string_view s);

}  // namespace paw
