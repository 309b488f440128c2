// case_format: rewrite a 2–4 word identifier from one naming style to another (snake_case,
// camelCase, PascalCase, kebab-case, Title Case, UPPER_SNAKE, plain words, dot.case).
#include <iterator>

#include "data/family.hpp"
#include "data/text.hpp"

namespace paw::data {
namespace {

const char* const kStyles[] = {"snake", "camel", "pascal", "kebab", "title", "upper_snake", "lower", "dot"};

std::string format_words(const std::vector<std::string>& ws, const std::string& style) {
  std::vector<std::string> v = ws;
  if (style == "snake") return join(v, "_");
  if (style == "kebab") return join(v, "-");
  if (style == "dot") return join(v, ".");
  if (style == "lower") return join(v, " ");
  if (style == "upper_snake") {
    for (auto& w : v) w = upper(w);
    return join(v, "_");
  }
  if (style == "title") {
    for (auto& w : v) w = capitalize(w);
    return join(v, " ");
  }
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0 || style == "pascal") v[i] = capitalize(v[i]);
  }
  return join(v, "");  // camel / pascal
}

std::string style_desc(const std::string& s) {
  static const std::vector<std::string> ex = {"order", "total", "amount"};
  return s + " (like " + format_words(ex, s) + ")";
}

class CaseFormat final : public Family {
 public:
  const char* name() const override { return "case_format"; }
  const char* description() const override {
    return "rewrite an identifier between naming styles (snake_case, camelCase, kebab-case, Title Case, ...)";
  }

  json draw_params(Rng& r, const Words&) const override {
    const size_t a = r.below(std::size(kStyles));
    size_t b = r.below(std::size(kStyles) - 1);
    if (b >= a) ++b;
    return {{"from", kStyles[a]}, {"to", kStyles[b]}};
  }

  std::string instruction(const json& p, Rng& r) const override {
    const std::string from = style_desc(p.at("from")), to = style_desc(p.at("to"));
    switch (r.below(3)) {
      case 0: return "Convert the name from " + from + " to " + to + ".";
      case 1: return "Rewrite each identifier in " + to + ". Inputs are written in " + from + ". Output only the result.";
      default: return "Change the naming style: " + from + " -> " + to + ".";
    }
  }

  Sample sample(const json& p, Rng& r, const Words& w) const override {
    const auto ws = w.pick_distinct(r, static_cast<size_t>(r.range(2, 4)));
    Sample s;
    s.segs = {Seg{format_words(ws, p.at("from")), true}};
    s.output = format_words(ws, p.at("to"));
    s.noise_kinds = kNoiseEdge;
    return s;
  }
};

}  // namespace

const Family& family_case_format() {
  static const CaseFormat f;
  return f;
}

}  // namespace paw::data
