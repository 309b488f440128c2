// list_ops: sort (ascending/descending), dedupe (first occurrences, in order), reverse, count,
// count distinct, count occurrences of a word, min/max — over a short list of words or
// numbers written with the spec's separator.
#include <algorithm>

#include "data/family.hpp"
#include "data/text.hpp"

namespace paw::data {
namespace {

struct Op {
  const char* name;
  bool words;    // allowed on word lists
  bool numbers;  // allowed on number lists
};
const Op kOps[] = {{"sort_asc", true, true},  {"sort_desc", true, true},       {"dedupe", true, true},
                   {"reverse", true, true},   {"count", true, true},           {"count_distinct", true, true},
                   {"count_of", true, false}, {"max", false, true},            {"min", false, true}};
const char* const kInSeps[] = {", ", "; ", " | ", "\n", " "};
const char* const kOutSeps[] = {", ", " ", ";"};

std::string sep_words(const std::string& s) {
  if (s == "\n") return "one per line";
  if (s == " ") return "separated by spaces";
  if (s == ", ") return "separated by commas";
  if (s == ";") return "separated by semicolons without spaces";
  if (s == "; ") return "separated by semicolons";
  return "separated by \"" + s + "\"";
}

class ListOps final : public Family {
 public:
  const char* name() const override { return "list_ops"; }
  const char* description() const override {
    return "sort, dedupe, reverse, count, count distinct/occurrences, min/max of a short list";
  }

  json draw_params(Rng& r, const Words& w) const override {
    const Op& op = r.pick(kOps);
    const std::string kind = op.words && op.numbers ? (r.chance(0.5) ? "words" : "numbers") : op.words ? "words" : "numbers";
    json p = {{"op", op.name}, {"kind", kind}, {"in_sep", r.pick(kInSeps)}, {"out_sep", r.pick(kOutSeps)}};
    p["target"] = std::string(op.name) == "count_of" ? w.pick(r) : "";
    return p;
  }

  std::string instruction(const json& p, Rng& r) const override {
    const std::string op = p.at("op"), kind = p.at("kind");
    const std::string items = kind == "words" ? "words" : "numbers";
    const std::string in = sep_words(p.at("in_sep")), out = sep_words(p.at("out_sep"));
    std::string task;
    if (op == "sort_asc") task = kind == "words" ? "Sort the words alphabetically (a to z)" : "Sort the numbers from smallest to largest";
    else if (op == "sort_desc") task = kind == "words" ? "Sort the words in reverse alphabetical order (z to a)" : "Sort the numbers from largest to smallest";
    else if (op == "dedupe") task = "Remove duplicate " + items + ", keeping the first occurrence of each in the original order";
    else if (op == "reverse") task = "Reverse the order of the " + items;
    else if (op == "count") task = "Count how many " + items + " are in the list";
    else if (op == "count_distinct") task = "Count how many different " + items + " the list has";
    else if (op == "count_of") task = "Count how many times the word \"" + p.at("target").get<std::string>() + "\" appears";
    else if (op == "max") task = "Return the largest number";
    else task = "Return the smallest number";
    const bool list_out = op == "sort_asc" || op == "sort_desc" || op == "dedupe" || op == "reverse";
    const std::string out_note = list_out ? " Write the result " + out + "." : " Answer with a single number.";
    switch (r.below(3)) {
      case 0: return task + ". The input is a list of " + items + " " + in + "." + out_note;
      case 1: return "You get " + items + " " + in + ". " + task + "." + out_note;
      default: return "List tool: " + task + "." + out_note + " (Input " + items + " are " + in + ".)";
    }
  }

  Sample sample(const json& p, Rng& r, const Words& w) const override {
    const std::string op = p.at("op"), kind = p.at("kind");
    const std::string in_sep = p.at("in_sep"), out_sep = p.at("out_sep");
    const std::string target = p.at("target");
    const size_t n = static_cast<size_t>(r.range(3, 8));
    std::vector<std::string> items;
    const bool dupes = op == "dedupe" || op == "count_distinct" || r.chance(0.2);
    for (size_t i = 0; i < n; ++i) {
      if (dupes && i > 0 && r.chance(0.35)) {
        items.push_back(items[r.below(i)]);
      } else if (op == "count_of" && r.chance(0.35)) {
        items.push_back(target);
      } else if (kind == "words") {
        items.push_back(w.pick(r, {target}));
      } else {
        items.push_back(std::to_string(r.range(0, 999)));
      }
    }
    std::vector<std::string> res = items;
    auto num = [](const std::string& s) { return std::stoll(s); };
    auto less = [&](const std::string& a, const std::string& b) { return kind == "words" ? a < b : num(a) < num(b); };
    Sample s;
    if (op == "sort_asc" || op == "sort_desc") {
      std::stable_sort(res.begin(), res.end(), less);
      if (op == "sort_desc") std::reverse(res.begin(), res.end());
      s.output = join(res, out_sep);
    } else if (op == "dedupe") {
      res.clear();
      for (const auto& it : items) {
        if (std::find(res.begin(), res.end(), it) == res.end()) res.push_back(it);
      }
      s.output = join(res, out_sep);
    } else if (op == "reverse") {
      std::reverse(res.begin(), res.end());
      s.output = join(res, out_sep);
    } else if (op == "count") {
      s.output = std::to_string(items.size());
    } else if (op == "count_distinct") {
      std::sort(res.begin(), res.end());
      s.output = std::to_string(std::unique(res.begin(), res.end()) - res.begin());
    } else if (op == "count_of") {
      s.output = std::to_string(std::count(items.begin(), items.end(), target));
    } else {
      const auto it = op == "max" ? std::max_element(items.begin(), items.end(), less) : std::min_element(items.begin(), items.end(), less);
      s.output = *it;
    }
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) s.segs.push_back(Seg{in_sep, false});
      s.segs.push_back(Seg{items[i], true});
    }
    // Only the separators may get wider; the items are the data.
    s.noise_kinds = kNoiseSpace | kNoiseEdge;
    return s;
  }
};

}  // namespace

const Family& family_list_ops() {
  static const ListOps f;
  return f;
}

}  // namespace paw::data
