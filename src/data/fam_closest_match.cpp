// closest_match: a misspelled word (1–2 edits) mapped to the one candidate it is closest to in
// edit distance; candidates are far apart (distance >= 4) so the answer is unique.
#include <algorithm>

#include "data/family.hpp"
#include "data/text.hpp"

namespace paw::data {
namespace {

size_t levenshtein(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string styled(const std::string& w, const std::string& style) {
  if (style == "title") return capitalize(w);
  if (style == "upper") return upper(w);
  return w;
}

std::string misspell(const std::string& w, Rng& r) {
  std::string s = w;
  const int64_t edits = r.range(1, 2);
  for (int64_t e = 0; e < edits; ++e) {
    const size_t i = 1 + r.below(s.size() - 1);  // keep the first letter
    switch (r.below(4)) {
      case 0: s.erase(i, 1); break;
      case 1: s.insert(i, 1, static_cast<char>('a' + r.below(26))); break;
      case 2: s[i] = static_cast<char>('a' + r.below(26)); break;
      default:
        if (i + 1 < s.size()) std::swap(s[i], s[i + 1]);
        else s.erase(i, 1);
        break;
    }
  }
  return s;
}

const char* const kStyles[] = {"lower", "title", "upper"};

class ClosestMatch final : public Family {
 public:
  const char* name() const override { return "closest_match"; }
  const char* description() const override {
    return "map a misspelled word to the closest of 4-7 listed candidates";
  }

  json draw_params(Rng& r, const Words& w) const override {
    const size_t n = static_cast<size_t>(r.range(4, 7));
    std::vector<std::string> cands;
    while (cands.size() < n) {
      const std::string c = w.pick_distinct_min_len(r, 1, 5)[0];
      bool far = true;
      for (const auto& o : cands) far = far && levenshtein(c, o) >= 4;
      if (far) cands.push_back(c);
    }
    return {{"candidates", cands}, {"style", r.pick(kStyles)}};
  }

  std::string instruction(const json& p, Rng& r) const override {
    std::vector<std::string> c;
    for (const auto& x : p.at("candidates")) c.push_back(styled(x, p.at("style")));
    switch (r.below(3)) {
      case 0: return "The input is a possibly misspelled word. Answer with the closest entry from this list: " + join(c, ", ") + ".";
      case 1: return "Match the typed text to one of the known names (" + join(c, " / ") + "), ignoring typos and case. Output the name exactly as listed.";
      default: return "Fuzzy lookup. Valid values:\n" + join(c, "\n") + "\nReturn the valid value nearest to the input.";
    }
  }

  Sample sample(const json& p, Rng& r, const Words&) const override {
    const auto cands = p.at("candidates").get<std::vector<std::string>>();
    for (;;) {
      const size_t t = r.below(cands.size());
      const std::string typo = misspell(cands[t], r);
      // The target must be the unique nearest candidate (it always is for distance >= 4 and
      // <= 2 edits, but a check costs nothing).
      const size_t dt = levenshtein(typo, cands[t]);
      if (dt == 0) continue;
      bool unique = true;
      for (size_t i = 0; i < cands.size(); ++i) unique = unique && (i == t || levenshtein(typo, cands[i]) > dt);
      if (!unique) continue;
      Sample s;
      // Casing and surrounding spaces are noise the lookup must ignore; more typos are not.
      s.segs = {Seg{typo, false}};
      s.output = styled(cands[t], p.at("style"));
      s.noise_kinds = kNoiseCase | kNoiseEdge;
      return s;
    }
  }
};

}  // namespace

const Family& family_closest_match() {
  static const ClosestMatch f;
  return f;
}

}  // namespace paw::data
