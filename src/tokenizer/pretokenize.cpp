// Hand-written equivalents of the two pre-tokenizer regexes (DESIGN.md §8). A backtracking
// regex tries its alternatives in order at each position and takes the first that matches;
// the scanners below do the same, one `if` per alternative, with the backtracking of the
// whitespace alternatives worked out in closed form.
//
// qwen2 (applied after NFC):
//   (?i:'s|'t|'re|'ve|'m|'ll|'d) | [^\r\n\p{L}\p{N}]?\p{L}+ | \p{N} | ?[^\s\p{L}\p{N}]+[\r\n]*
//   | \s*[\r\n]+ | \s+(?!\S) | \s+
// gpt2 (no normaliser):
//   's|'t|'re|'ve|'m|'ll|'d | ?\p{L}+ | ?\p{N}+ | ?[^\s\p{L}\p{N}]+ | \s+(?!\S) | \s+
//
// The (?i:) group folds ASCII only, as the reference (tokenizers.js) does.
#include "tokenizer/pretokenize.hpp"

#include <cstdint>

#include "tokenizer/unicode.hpp"

namespace paw::tok {
namespace {

struct Ch {
  uint32_t off;  // byte offset of the character
  int32_t cp;    // code point, -1 for an invalid byte
  uint8_t cls;   // class bits (unicode.hpp)
};

bool is_letter(const Ch& c) { return c.cls & kLetter; }
bool is_number(const Ch& c) { return c.cls & kNumber; }
bool is_space(const Ch& c) { return c.cls & kSpace; }
bool is_other(const Ch& c) { return (c.cls & (kLetter | kNumber | kSpace)) == 0; }  // [^\s\p{L}\p{N}]
bool is_crlf(const Ch& c) { return c.cp == '\r' || c.cp == '\n'; }
int32_t ascii_lower(int32_t cp) { return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp; }

// Decodes `text` into characters plus a sentinel whose offset is text.size().
void decode(std::string_view text, std::vector<Ch>& chars) {
  chars.clear();
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  const uint8_t* bmp = bmp_class_table();
  for (size_t i = 0; i < n;) {
    int32_t cp;
    size_t len;
    if (s[i] < 0x80) {
      cp = s[i];
      len = 1;
    } else {
      len = utf8_next(s, n, i, cp);
    }
    const uint8_t cls = cp < 0 ? 0 : (cp < 0x10000 ? bmp[cp] : cp_class_slow(cp));
    chars.push_back({static_cast<uint32_t>(i), cp, cls});
    i += len;
  }
  chars.push_back({static_cast<uint32_t>(n), 0, 0});
}

// Length (in characters) of a contraction at i, 0 if none. Contractions: 's 't 're 've 'm 'll 'd.
size_t contraction(const std::vector<Ch>& c, size_t i, size_t n, bool fold_case) {
  if (c[i].cp != '\'' || i + 1 >= n) return 0;
  auto norm = [&](size_t k) { return fold_case ? ascii_lower(c[k].cp) : c[k].cp; };
  const int32_t a = norm(i + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (i + 2 >= n) return 0;
  const int32_t b = norm(i + 2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// The trailing whitespace alternatives shared by both regexes, for a whitespace run
// starting at i: `\s+(?!\S)` keeps the run's last character for the next piece unless the
// run reaches the end; a lone whitespace character before a non-space falls to `\s+`.
size_t whitespace_tail(const std::vector<Ch>& c, size_t i, size_t n, size_t run_end) {
  if (run_end == n) return run_end;
  if (run_end - i >= 2) return run_end - 1;
  return run_end;
}

void scan_qwen2(const std::vector<Ch>& c, std::vector<Piece>& out) {
  const size_t n = c.size() - 1;
  size_t i = 0;
  auto emit = [&](size_t j) {
    out.push_back({c[i].off, c[j].off});
    i = j;
  };
  while (i < n) {
    // (?i:'s|'t|'re|'ve|'m|'ll|'d)
    if (size_t len = contraction(c, i, n, /*fold_case=*/true)) {
      emit(i + len);
      continue;
    }
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (is_letter(c[i]) || (!is_crlf(c[i]) && !is_number(c[i]) && i + 1 < n && is_letter(c[i + 1]))) {
      size_t j = i + 1;
      while (j < n && is_letter(c[j])) ++j;
      emit(j);
      continue;
    }
    // \p{N}
    if (is_number(c[i])) {
      emit(i + 1);
      continue;
    }
    // ' '?[^\s\p{L}\p{N}]+[\r\n]*
    {
      const size_t p = c[i].cp == ' ' ? i + 1 : i;
      if (p < n && is_other(c[p])) {
        size_t j = p + 1;
        while (j < n && is_other(c[j])) ++j;
        while (j < n && is_crlf(c[j])) ++j;
        emit(j);
        continue;
      }
    }
    // Only whitespace is left here.
    size_t run_end = i;
    size_t last_crlf = SIZE_MAX;
    while (run_end < n && is_space(c[run_end])) {
      if (is_crlf(c[run_end])) last_crlf = run_end;
      ++run_end;
    }
    if (run_end == i) {  // unreachable: every character class is covered above
      emit(i + 1);
      continue;
    }
    // \s*[\r\n]+ : the greedy \s* backs off to the run's last CR/LF.
    if (last_crlf != SIZE_MAX) {
      emit(last_crlf + 1);
      continue;
    }
    emit(whitespace_tail(c, i, n, run_end));
  }
}

void scan_gpt2(const std::vector<Ch>& c, std::vector<Piece>& out) {
  const size_t n = c.size() - 1;
  size_t i = 0;
  auto emit = [&](size_t j) {
    out.push_back({c[i].off, c[j].off});
    i = j;
  };
  while (i < n) {
    // 's|'t|'re|'ve|'m|'ll|'d
    if (size_t len = contraction(c, i, n, /*fold_case=*/false)) {
      emit(i + len);
      continue;
    }
    // ' '?\p{L}+ | ' '?\p{N}+ | ' '?[^\s\p{L}\p{N}]+
    const size_t p = c[i].cp == ' ' && i + 1 < n ? i + 1 : i;
    bool (*run_class)(const Ch&) = nullptr;
    if (is_letter(c[p])) {
      run_class = is_letter;
    } else if (is_number(c[p])) {
      run_class = is_number;
    } else if (is_other(c[p])) {
      run_class = is_other;
    }
    if (run_class) {
      size_t j = p + 1;
      while (j < n && run_class(c[j])) ++j;
      emit(j);
      continue;
    }
    // \s+(?!\S) | \s+
    size_t run_end = i;
    while (run_end < n && is_space(c[run_end])) ++run_end;
    if (run_end == i) {  // unreachable
      emit(i + 1);
      continue;
    }
    emit(whitespace_tail(c, i, n, run_end));
  }
}

}  // namespace

void pretokenize(PreTokenizer kind, std::string_view text, std::vector<Piece>& out) {
  if (text.empty()) return;
  thread_local std::vector<Ch> chars;
  decode(text, chars);
  if (kind == PreTokenizer::Qwen2) {
    scan_qwen2(chars, out);
  } else {
    scan_gpt2(chars, out);
  }
}

}  // namespace paw::tok
