#include "tokenizer/added_tokens.hpp"

#include <algorithm>

#include "tokenizer/unicode.hpp"

namespace paw::tok {
namespace {

// Code point of the character that ends at `end` (exclusive), -1 if none/invalid; sets `len`.
int32_t char_before(std::string_view text, size_t end, size_t& len) {
  len = 0;
  if (end == 0) return -1;
  size_t b = end - 1;
  while (b > 0 && end - b < 4 && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) --b;
  int32_t cp;
  const size_t l = utf8_next(reinterpret_cast<const unsigned char*>(text.data()), end, b, cp);
  if (b + l != end) {  // the bytes before `end` do not form one character
    len = 1;
    return -1;
  }
  len = l;
  return cp;
}

int32_t char_at(std::string_view text, size_t pos, size_t& len) {
  if (pos >= text.size()) {
    len = 0;
    return -1;
  }
  int32_t cp;
  len = utf8_next(reinterpret_cast<const unsigned char*>(text.data()), text.size(), pos, cp);
  return cp;
}

bool is_word(int32_t cp) { return cp >= 0 && (cp_class(cp) & kWord); }
bool is_ws(int32_t cp) { return cp >= 0 && (cp_class(cp) & kSpace); }

}  // namespace

void AddedMatcher::build(const std::vector<int32_t>& indices, const std::vector<std::string>& patterns) {
  nodes_.assign(1, Node{});
  std::fill(std::begin(first_byte_), std::end(first_byte_), false);
  n_patterns_ = 0;
  for (size_t k = 0; k < indices.size(); ++k) {
    const std::string& p = patterns[k];
    if (p.empty()) continue;
    int32_t node = 0;
    for (unsigned char b : p) {
      int32_t next = child(node, b);
      if (next < 0) {
        next = static_cast<int32_t>(nodes_.size());
        nodes_.push_back(Node{});
        auto& ch = nodes_[node].children;
        ch.insert(std::lower_bound(ch.begin(), ch.end(), std::make_pair(b, int32_t{-1})), {b, next});
      }
      node = next;
    }
    // A repeated pattern keeps its first token, like a trie built from the list in order.
    if (nodes_[node].token < 0) {
      nodes_[node].token = indices[k];
      ++n_patterns_;
    }
    first_byte_[static_cast<unsigned char>(p[0])] = true;
  }
}

int32_t AddedMatcher::child(int32_t node, uint8_t b) const {
  const auto& ch = nodes_[node].children;
  auto it = std::lower_bound(ch.begin(), ch.end(), std::make_pair(b, int32_t{-1}));
  return it != ch.end() && it->first == b ? it->second : -1;
}

int32_t AddedMatcher::longest_at(std::string_view text, size_t pos, size_t& len) const {
  int32_t node = 0, best = -1;
  for (size_t i = pos; i < text.size(); ++i) {
    node = child(node, static_cast<uint8_t>(text[i]));
    if (node < 0) break;
    if (nodes_[node].token >= 0) {
      best = nodes_[node].token;
      len = i + 1 - pos;
    }
  }
  return best;
}

void AddedMatcher::split(std::string_view text, const std::vector<AddedToken>& tokens, bool parse_special,
                         std::vector<Segment>& out) const {
  const size_t n = text.size();
  size_t start_offset = 0;  // end of the last emitted segment
  size_t search = 0;        // where the next match may start
  if (n_patterns_ > 0) {
    while (search < n) {
      size_t pos = search, len = 0;
      int32_t tok = -1;
      for (; pos < n; ++pos) {
        if (!first_byte_[static_cast<unsigned char>(text[pos])]) continue;
        tok = longest_at(text, pos, len);
        if (tok >= 0) break;
      }
      if (tok < 0) break;
      size_t start = pos, stop = pos + len;
      search = stop;
      const AddedToken& t = tokens[tok];
      if (t.special && !parse_special) continue;
      if (t.single_word) {
        size_t l;
        const bool start_ok = start == 0 || !is_word(char_before(text, start, l));
        const bool stop_ok = stop == n || !is_word(char_at(text, stop, l));
        if (!start_ok || !stop_ok) continue;
      }
      if (t.lstrip) {
        size_t s = start, l;
        for (int32_t cp; (cp = char_before(text, s, l)) >= 0 && is_ws(cp);) s -= l;
        start = std::max(s, start_offset);  // never reach back into the previous match
      }
      if (t.rstrip) {
        size_t l;
        for (int32_t cp; (cp = char_at(text, stop, l)) >= 0 && is_ws(cp);) stop += l;
        search = stop;
      }
      if (start_offset < start) out.push_back({start_offset, start, -1});
      out.push_back({start, stop, tok});
      start_offset = stop;
    }
  }
  if (start_offset < n) out.push_back({start_offset, n, -1});
}

}  // namespace paw::tok
