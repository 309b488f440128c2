#include "tokenizer/byte_level.hpp"

#include "tokenizer/unicode.hpp"

namespace paw::tok {

const ByteLevel& ByteLevel::get() {
  static const ByteLevel table = [] {
    ByteLevel t;
    t.cp_to_byte.fill(-1);
    auto printable = [](int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); };
    int next = 0;
    for (int b = 0; b < 256; ++b) {
      const int32_t cp = printable(b) ? b : 256 + next++;
      t.byte_to_cp[b] = cp;
      append_utf8(t.byte_to_str[b], cp);
      t.cp_to_byte[cp] = static_cast<int16_t>(b);
    }
    return t;
  }();
  return table;
}

std::string to_byte_level(std::string_view bytes) {
  const ByteLevel& bl = ByteLevel::get();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) out += bl.byte_to_str[c];
  return out;
}

std::optional<std::string> from_byte_level(std::string_view text) {
  const ByteLevel& bl = ByteLevel::get();
  std::string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t i = 0; i < text.size();) {
    int32_t cp;
    i += utf8_next(s, text.size(), i, cp);
    if (cp < 0 || cp >= 512 || bl.cp_to_byte[cp] < 0) return std::nullopt;
    out.push_back(static_cast<char>(bl.cp_to_byte[cp]));
  }
  return out;
}

}  // namespace paw::tok
