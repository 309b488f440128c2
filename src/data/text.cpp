#include "data/text.hpp"

namespace paw::data {

std::vector<Seg> render(std::string_view tmpl, const std::vector<Slot>& slots) {
  std::vector<Seg> out;
  std::string lit;
  size_t i = 0;
  while (i < tmpl.size()) {
    if (tmpl[i] == '{') {
      const size_t close = tmpl.find('}', i);
      if (close != std::string_view::npos) {
        const std::string_view name = tmpl.substr(i + 1, close - i - 1);
        const Slot* found = nullptr;
        for (const Slot& s : slots) {
          if (s.name == name) found = &s;
        }
        if (found) {
          if (!lit.empty()) out.push_back(Seg{std::move(lit), false});
          lit.clear();
          out.push_back(Seg{found->value, found->keep});
          i = close + 1;
          continue;
        }
      }
    }
    lit.push_back(tmpl[i++]);
  }
  if (!lit.empty()) out.push_back(Seg{std::move(lit), false});
  return out;
}

std::string render_text(std::string_view tmpl, const std::vector<Slot>& slots) { return concat(render(tmpl, slots)); }

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

std::string phrase_list(const std::vector<std::string>& items, std::string_view conj) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += (i + 1 == items.size()) ? " " + std::string(conj) + " " : ", ";
    out += items[i];
  }
  return out;
}

std::string capitalize(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

void capitalize_first(std::vector<Seg>& segs) {
  if (segs.empty() || segs[0].keep) return;
  segs[0].text = capitalize(std::move(segs[0].text));
}

std::string zero_pad(int64_t v, int width) {
  std::string s = std::to_string(v < 0 ? -v : v);
  while (static_cast<int>(s.size()) < width) s.insert(s.begin(), '0');
  return v < 0 ? "-" + s : s;
}

}  // namespace paw::data
