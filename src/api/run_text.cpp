// Output trimming of the runner, as the reference strips its output.
#include <cstdint>
#include <string>
#include <string_view>

#include "paw/run.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

// Python's str.isspace() set, which str.strip() removes.
bool py_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Decodes the code point starting at s[i] (length in *len). Malformed bytes count as one
// non-space unit: they are never trimmed.
uint32_t decode_at(std::string_view s, size_t i, size_t* len) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t c = b(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) {
    *len = 1;
    return 0xFFFFFFFFu;
  }
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) {
      *len = 1;
      return 0xFFFFFFFFu;
    }
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  *len = n;
  return cp;
}

}  // namespace

std::string trim_output(std::string_view text) {
  size_t begin = 0;
  while (begin < text.size()) {
    size_t len;
    if (!py_space(decode_at(text, begin, &len))) break;
    begin += len;
  }
  size_t end = text.size();
  while (end > begin) {
    // Start of the last code point: step back over continuation bytes (at most 3).
    size_t start = end - 1;
    while (start > begin && end - start < 4 && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80) --start;
    size_t len;
    const uint32_t cp = decode_at(text, start, &len);
    if (start + len != end || !py_space(cp)) break;
    end = start;
  }
  return std::string(text.substr(begin, end - begin));
}

}  // namespace paw
