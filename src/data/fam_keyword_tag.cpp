// keyword_tag: multi-label tagging. 3–5 tags, each defined by cue words; the output lists every
// tag whose cue occurs, in the order the spec lists the tags, or a "none" word.
#include "data/family.hpp"
#include "data/pools.hpp"
#include "data/text.hpp"

namespace paw::data {
namespace {

// {a} is always a cue slot; {b} is a cue or a plain word.
const std::vector<std::string>& frames() {
  static const std::vector<std::string> v = {
      "we talked about {a} and {b} at the {w1} meeting",
      "new post: {a}, {b} and a bit of {w1}",
      "my notes mention {a} plus some {b}",
      "the {w1} article covers {a} as well as {b}",
      "{a} first, then {b}, then {w1}",
      "looking for {a} or maybe {b} near the {w1}",
      "agenda for {day}: {a}, {b}",
      "could you send me something on {a} and {b}?",
      "the {w1} blog has a piece on {a} and {b}",
  };
  return v;
}

const std::set<std::string>& reserved() {
  static const std::set<std::string> s = [] {
    std::vector<std::string> texts = frames();
    for (const auto& d : day_words()) texts.push_back(d);
    for (const auto& c : category_names()) texts.push_back(c);
    texts.push_back("none");
    return word_set(texts);
  }();
  return s;
}

const char* const kNone[] = {"none", "no tags", "-", "n/a"};
const char* const kSeps[] = {", ", ",", "; ", " "};

class KeywordTag final : public Family {
 public:
  const char* name() const override { return "keyword_tag"; }
  const char* description() const override {
    return "list every tag (of 3-5, each defined by keywords) whose keyword occurs, in spec order, or a none word";
  }

  json draw_params(Rng& r, const Words& w) const override {
    const size_t n = static_cast<size_t>(r.range(3, 5));
    std::set<std::string> avoid = reserved();
    json tags = json::array();
    for (size_t i : r.sample_indices(category_names().size(), n)) {
      std::vector<std::string> cues = w.pick_distinct(r, static_cast<size_t>(r.range(2, 3)), avoid);
      for (const auto& c : cues) avoid.insert(c);
      tags.push_back({{"name", category_names()[i]}, {"cues", cues}});
    }
    return {{"tags", tags}, {"none", r.pick(kNone)}, {"sep", r.pick(kSeps)}};
  }

  std::string instruction(const json& p, Rng& r) const override {
    const std::string none = p.at("none").get<std::string>();
    const std::string sep = p.at("sep").get<std::string>();
    const std::string sep_desc = sep == " " ? "spaces" : "\"" + sep + "\"";
    std::string s;
    std::string defs;
    for (const auto& t : p.at("tags")) {
      defs += "- " + t.at("name").get<std::string>() + ": " + join(t.at("cues").get<std::vector<std::string>>(), ", ") + "\n";
    }
    switch (r.below(3)) {
      case 0:
        s = "Tag the text with every topic whose keywords appear in it.\n" + defs + "List the tags in the order above, separated by " +
            sep_desc + ". If no keyword appears, output " + none + ".";
        break;
      case 1:
        s = "Which of these tags apply? A tag applies when one of its words is in the input.\n" + defs +
            "Answer with the matching tags (in this order, joined by " + sep_desc + ") or \"" + none + "\" if none match.";
        break;
      default:
        s = "Keyword tagger. Tags and their trigger words:\n" + defs + "Output all triggered tags in the listed order separated by " +
            sep_desc + "; output " + none + " when nothing triggers.";
        break;
    }
    return s;
  }

  Sample sample(const json& p, Rng& r, const Words& w) const override {
    const json& tags = p.at("tags");
    std::set<std::string> avoid = reserved();
    for (const auto& t : tags) {
      for (const auto& c : t.at("cues")) avoid.insert(c.get<std::string>());
    }
    // 0, 1 or 2 distinct tags.
    const uint64_t roll = r.below(10);
    const size_t n_hit = roll < 2 ? 0 : roll < 6 ? 1 : 2;
    std::vector<size_t> hit = r.sample_indices(tags.size(), n_hit);
    auto cue_of = [&](size_t i) { return r.pick(tags[i].at("cues").get<std::vector<std::string>>()); };
    Slot a{"a", "", true}, b{"b", "", true};
    if (n_hit >= 1) {
      a.value = cue_of(hit[0]);
    } else {
      a = Slot{"a", w.pick(r, avoid), false};
    }
    if (n_hit == 2) {
      b.value = cue_of(hit[1]);
    } else {
      b = Slot{"b", w.pick(r, avoid), false};
    }
    Sample s;
    s.segs = render(r.pick(frames()), {a, b, {"w1", w.pick(r, avoid), false}, {"day", r.pick(day_words()), false}});
    if (r.chance(0.5)) capitalize_first(s.segs);
    std::vector<std::string> out;
    for (size_t i = 0; i < tags.size(); ++i) {
      for (size_t h : hit) {
        if (h == i) out.push_back(tags[i].at("name").get<std::string>());
      }
    }
    s.output = out.empty() ? p.at("none").get<std::string>() : join(out, p.at("sep").get<std::string>());
    return s;
  }
};

}  // namespace

const Family& family_keyword_tag() {
  static const KeywordTag f;
  return f;
}

}  // namespace paw::data
