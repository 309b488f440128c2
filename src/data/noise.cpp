#include "data/noise.hpp"

#include <array>

namespace paw::data {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// A word (maximal alphabetic run) inside a noisable segment.
struct Span {
  size_t seg;
  size_t begin;
  size_t len;
};

std::vector<Span> word_spans(const std::vector<Seg>& segs, size_t min_len) {
  std::vector<Span> out;
  for (size_t s = 0; s < segs.size(); ++s) {
    if (segs[s].keep) continue;
    const std::string& t = segs[s].text;
    size_t i = 0;
    while (i < t.size()) {
      if (!is_alpha(t[i])) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < t.size() && is_alpha(t[j])) ++j;
      // A run touching a kept neighbour may continue a kept word: leave it alone.
      const bool touches_left = i == 0 && s > 0 && !segs[s - 1].text.empty() && is_alpha(segs[s - 1].text.back());
      const bool touches_right =
          j == t.size() && s + 1 < segs.size() && !segs[s + 1].text.empty() && is_alpha(segs[s + 1].text.front());
      if (j - i >= min_len && !touches_left && !touches_right) out.push_back({s, i, j - i});
      i = j;
    }
  }
  return out;
}

bool op_typo(std::vector<Seg>& segs, Rng& r) {
  const auto spans = word_spans(segs, 5);
  if (spans.empty()) return false;
  const Span sp = r.pick(spans);
  std::string& t = segs[sp.seg].text;
  // Letters after the first only: the first letter of a word is rarely mistyped.
  const size_t i = sp.begin + 1 + r.below(sp.len - 2);  // i and i+1 are inside the word
  switch (r.below(3)) {
    case 0:
      if (t[i] == t[i + 1]) return false;
      std::swap(t[i], t[i + 1]);
      return true;
    case 1:
      t.erase(i, 1);
      return true;
    default:
      t.insert(i, 1, t[i]);
      return true;
  }
}

bool op_case(std::vector<Seg>& segs, Rng& r) {
  const auto spans = word_spans(segs, 2);
  if (spans.empty()) return false;
  const Span sp = r.pick(spans);
  std::string& t = segs[sp.seg].text;
  const std::string before = t.substr(sp.begin, sp.len);
  std::string w = before;
  const uint64_t start = r.below(3);
  for (uint64_t k = 0; k < 3 && w == before; ++k) {
    w = before;
    switch ((start + k) % 3) {
      case 0:
        for (char& c : w) c = static_cast<char>(c & ~0x20);
        break;
      case 1:
        for (char& c : w) c = static_cast<char>(c | 0x20);
        w[0] = static_cast<char>(w[0] & ~0x20);
        break;
      default:
        for (char& c : w) c = static_cast<char>(c | 0x20);
        break;
    }
  }
  if (w == before) return false;
  t.replace(sp.begin, sp.len, w);
  return true;
}

bool op_space(std::vector<Seg>& segs, Rng& r) {
  std::vector<std::pair<size_t, size_t>> pos;
  for (size_t s = 0; s < segs.size(); ++s) {
    if (segs[s].keep) continue;
    for (size_t i = 0; i < segs[s].text.size(); ++i) {
      if (segs[s].text[i] == ' ') pos.emplace_back(s, i);
    }
  }
  if (pos.empty()) return false;
  const auto [s, i] = r.pick(pos);
  segs[s].text.insert(i, r.chance(0.75) ? 1 : 2, ' ');
  return true;
}

bool op_filler(std::vector<Seg>& segs, Rng& r) {
  // Word starts in noisable segments: after a space, or at the start of the input.
  std::vector<std::pair<size_t, size_t>> pos;
  char prev = ' ';
  for (size_t s = 0; s < segs.size(); ++s) {
    const std::string& t = segs[s].text;
    for (size_t i = 0; i < t.size(); ++i) {
      const char before = i == 0 ? prev : t[i - 1];
      if (!segs[s].keep && before == ' ' && is_alpha(t[i])) pos.emplace_back(s, i);
    }
    if (!t.empty()) prev = t.back();
  }
  if (pos.empty()) return false;
  const auto [s, i] = r.pick(pos);
  segs[s].text.insert(i, r.pick(noise_filler_texts()) + " ");
  return true;
}

bool op_edge(std::vector<Seg>& segs, Rng& r) {
  const std::string pad(1 + r.below(2), ' ');
  switch (r.below(3)) {
    case 0: segs.insert(segs.begin(), Seg{pad, false}); break;
    case 1: segs.push_back(Seg{pad, false}); break;
    default:
      segs.insert(segs.begin(), Seg{pad, false});
      segs.push_back(Seg{" ", false});
      break;
  }
  return true;
}

using Op = bool (*)(std::vector<Seg>&, Rng&);
constexpr std::array<std::pair<uint8_t, Op>, 5> kOps = {{
    {kNoiseTypo, op_typo},
    {kNoiseCase, op_case},
    {kNoiseSpace, op_space},
    {kNoiseFiller, op_filler},
    {kNoiseEdge, op_edge},
}};

}  // namespace

std::string concat(const std::vector<Seg>& segs) {
  std::string out;
  for (const Seg& s : segs) out += s.text;
  return out;
}

const std::vector<std::string>& noise_filler_texts() {
  static const std::vector<std::string> f = {"um",       "uh,",    "like",  "basically", "actually", "just",
                                             "so",       "well,",  "kinda", "honestly",  "hey,",     "you know,",
                                             "erm",      "ok so"};
  return f;
}

bool apply_noise(std::vector<Seg>& segs, uint8_t kinds, Rng& r) {
  std::vector<Op> allowed;
  for (const auto& [bit, op] : kOps) {
    if (kinds & bit) allowed.push_back(op);
  }
  if (allowed.empty()) return false;
  const std::string before = concat(segs);
  const int64_t n_ops = r.range(1, 3);
  for (int64_t k = 0; k < n_ops; ++k) {
    // Try a random allowed kind, then the others in order, until one finds a target.
    const size_t first = r.below(allowed.size());
    for (size_t j = 0; j < allowed.size(); ++j) {
      if (allowed[(first + j) % allowed.size()](segs, r)) break;
    }
  }
  if (concat(segs) != before) return true;
  // A typo that swapped equal letters (or similar) changed nothing: add one sure change.
  for (Op op : allowed) {
    if (op(segs, r) && concat(segs) != before) return true;
  }
  return concat(segs) != before;
}

}  // namespace paw::data
