#pragma once
// GPT-2's byte-level alphabet: every byte maps to one printable code point so that BPE
// vocabularies can be stored as text. Printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ')
// map to themselves; the 68 others map, in byte order, to U+0100, U+0101, ... (space 0x20
// becomes U+0120 'Ġ', newline 0x0A becomes U+010A 'Ċ').
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace paw::tok {

struct ByteLevel {
  std::array<int32_t, 256> byte_to_cp{};     // byte -> code point
  std::array<std::string, 256> byte_to_str;  // byte -> UTF-8 of that code point
  std::array<int16_t, 512> cp_to_byte{};     // code point (< 512) -> byte, -1 if none

  static const ByteLevel& get();
};

// Raw bytes -> byte-level text.
std::string to_byte_level(std::string_view bytes);

// Byte-level text -> raw bytes; nullopt if some character is outside the alphabet.
std::optional<std::string> from_byte_level(std::string_view text);

}  // namespace paw::tok
