#include "tokenizer/unicode.hpp"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>
#include <vector>

namespace paw::tok {

uint8_t cp_class_slow(int32_t cp) {
  if (cp < 0 || cp > 0x10FFFF) return 0;
  uint8_t bits = 0;
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      bits = kLetter | kWord;
      break;
    case UTF8PROC_CATEGORY_ND:
      bits = kNumber | kWord;
      break;
    case UTF8PROC_CATEGORY_NL:  // letter numbers are Alphabetic, hence \w
      bits = kNumber | kWord;
      break;
    case UTF8PROC_CATEGORY_NO:
      bits = kNumber;
      break;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_PC:
      bits = kWord;
      break;
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
      bits = kSpace;
      break;
    default:
      break;
  }
  // White_Space also holds these controls (categories Cc): TAB LF VT FF CR and NEL.
  if ((cp >= 0x09 && cp <= 0x0D) || cp == 0x85) bits |= kSpace;
  if (cp == 0x200C || cp == 0x200D) bits |= kWord;  // Join_Control is part of \w
  return bits;
}

const uint8_t* bmp_class_table() {
  // Built once (thread-safe static init); 64 KiB makes the per-character lookup one load.
  static const std::unique_ptr<uint8_t[]> table = [] {
    auto t = std::make_unique<uint8_t[]>(0x10000);
    for (int32_t cp = 0; cp < 0x10000; ++cp) t[cp] = cp_class_slow(cp);
    return t;
  }();
  return table.get();
}

void append_utf8(std::string& out, int32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_trivially_nfc(std::string_view text) {
  // Every code point below U+0300 is NFC_Quick_Check=Yes and cannot compose with a
  // preceding character, so such text is its own NFC. U+0300 encodes as CC 80.
  for (unsigned char c : text) {
    if (c >= 0xCC) return false;
  }
  // Bytes 0x80..0xCB may still belong to ill-formed input; those pass through unchanged
  // anyway, so the text is returned as is.
  return true;
}

namespace {

void nfc_valid_run(std::string_view run, std::string& out) {
  if (run.empty()) return;
  if (is_trivially_nfc(run)) {
    out.append(run);
    return;
  }
  utf8proc_uint8_t* dst = nullptr;
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(run.data()), static_cast<utf8proc_ssize_t>(run.size()),
                   &dst, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) {
    // Cannot happen for well-formed input; keep the text rather than lose it.
    out.append(run);
    return;
  }
  out.append(reinterpret_cast<const char*>(dst), static_cast<size_t>(n));
  std::free(dst);
}

}  // namespace

std::string nfc(std::string_view text) {
  if (is_trivially_nfc(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 16);
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t run_start = 0, i = 0;
  while (i < n) {
    int32_t cp;
    const size_t len = utf8_next(s, n, i, cp);
    if (cp < 0) {
      nfc_valid_run(text.substr(run_start, i - run_start), out);
      out.push_back(text[i]);
      run_start = i + 1;
    }
    i += len;
  }
  nfc_valid_run(text.substr(run_start), out);
  return out;
}

bool is_valid_utf8(std::string_view bytes) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  for (size_t i = 0; i < bytes.size();) {
    int32_t cp;
    i += utf8_next(s, bytes.size(), i, cp);
    if (cp < 0) return false;
  }
  return true;
}

std::string utf8_lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    int32_t cp;
    const size_t len = utf8_next(s, n, i, cp);
    if (cp >= 0) {
      out.append(bytes.substr(i, len));
      i += len;
      continue;
    }
    // Ill-formed: consume the lead byte plus the continuation bytes that could still have
    // belonged to a well-formed sequence (the maximal subpart), emit one U+FFFD for them.
    const unsigned b0 = s[i];
    size_t need = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      need = 1;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      need = 2;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      need = 3;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    }
    size_t k = 1;
    for (size_t j = 0; j < need && i + k < n; ++j) {
      const unsigned b = s[i + k];
      const bool ok = j == 0 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
      if (!ok) break;
      ++k;
    }
    out.append("\xEF\xBF\xBD");
    i += k;
  }
  return out;
}

}  // namespace paw::tok
