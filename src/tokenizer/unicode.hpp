#pragma once
// Unicode helpers for the tokenizer: a strict UTF-8 decoder that tolerates invalid bytes,
// the character classes the pre-tokenizer regexes use (\p{L}, \p{N}, \s, \w) taken from
// utf8proc's general categories, NFC normalisation and lossy UTF-8 repair.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace paw::tok {

// Class bits of one code point. Invalid bytes (cp < 0) have no bits: they behave like
// punctuation ("[^\s\p{L}\p{N}]"), which keeps every input byte encodable.
enum : uint8_t {
  kLetter = 1,  // \p{L}: Lu Ll Lt Lm Lo
  kNumber = 2,  // \p{N}: Nd Nl No
  kSpace = 4,   // \s: Unicode White_Space = Zs Zl Zp, U+0009..U+000D, U+0085
  kWord = 8,    // \w (Rust regex): Alphabetic, M*, Nd, Pc, ZWNJ/ZWJ (approximated by categories)
};

uint8_t cp_class_slow(int32_t cp);
const uint8_t* bmp_class_table();  // [0x10000] class bits, built once

inline uint8_t cp_class(int32_t cp) {
  if (cp < 0) return 0;
  if (cp < 0x10000) return bmp_class_table()[cp];
  return cp_class_slow(cp);
}

// Decodes one code point at s[i] (i < n). Returns its length in bytes (1..4); sets cp to -1
// for a byte that does not start a well-formed sequence (overlongs, surrogates, > U+10FFFF,
// truncated sequences), which is then consumed alone.
inline size_t utf8_next(const unsigned char* s, size_t n, size_t i, int32_t& cp) {
  const unsigned b0 = s[i];
  if (b0 < 0x80) {
    cp = static_cast<int32_t>(b0);
    return 1;
  }
  auto cont = [&](size_t k, unsigned lo, unsigned hi) { return i + k < n && s[i + k] >= lo && s[i + k] <= hi; };
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (cont(1, 0x80, 0xBF)) {
      cp = static_cast<int32_t>(((b0 & 0x1F) << 6) | (s[i + 1] & 0x3F));
      return 2;
    }
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    const unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80;
    const unsigned hi = b0 == 0xED ? 0x9F : 0xBF;
    if (cont(1, lo, hi) && cont(2, 0x80, 0xBF)) {
      cp = static_cast<int32_t>(((b0 & 0x0F) << 12) | ((s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F));
      return 3;
    }
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    const unsigned lo = b0 == 0xF0 ? 0x90 : 0x80;
    const unsigned hi = b0 == 0xF4 ? 0x8F : 0xBF;
    if (cont(1, lo, hi) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF)) {
      cp = static_cast<int32_t>(((b0 & 0x07) << 18) | ((s[i + 1] & 0x3F) << 12) | ((s[i + 2] & 0x3F) << 6) |
                                (s[i + 3] & 0x3F));
      return 4;
    }
  }
  cp = -1;
  return 1;
}

// Appends the UTF-8 encoding of a valid code point.
void append_utf8(std::string& out, int32_t cp);

// NFC of `text`. Maximal well-formed runs are normalised; invalid bytes pass through as is.
// Fast path: text made only of code points below U+0300 is already NFC and is returned as is.
std::string nfc(std::string_view text);
bool is_trivially_nfc(std::string_view text);

// Replaces each maximal ill-formed subpart with U+FFFD (the Unicode "substitution of maximal
// subparts" practice, which Rust's String::from_utf8_lossy follows).
std::string utf8_lossy(std::string_view bytes);
bool is_valid_utf8(std::string_view bytes);

}  // namespace paw::tok
