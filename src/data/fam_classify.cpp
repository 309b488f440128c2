// classify: one label out of 3–5, each label defined in words by the cue words that signal it;
// optionally a fallback label when no cue occurs. The input carries exactly one label's cue
// (or none, for the fallback).
#include "data/family.hpp"
#include "data/pools.hpp"
#include "data/text.hpp"

namespace paw::data {
namespace {

const std::vector<std::string>& frames() {
  static const std::vector<std::string> v = {
      "hi, I have a question about the {cue} we ordered last {day}",
      "the {cue} is {w1} again, can someone look?",
      "note: {w1} {cue} report attached",
      "is there any update on the {cue}?",
      "we need help with the {cue} and the {w1}",
      "quick one: {cue} for the {w1} team",
      "my {w1} keeps asking about the {cue}",
      "FYI the {cue} meeting moved to {day}",
      "{cue}! please check the {w1} soon",
      "can you forward the {cue} details to {w1}?",
      "thoughts on the new {cue} {w1} plan?",
      "reminder: {cue} due {day}",
      "the {w1} said the {cue} was fine",
      "I saw a {cue} near the {w1} {day}",
      "any news about {cue} or {w1}?",
  };
  return v;
}

const std::set<std::string>& reserved() {
  static const std::set<std::string> s = [] {
    std::vector<std::string> texts = frames();
    for (const auto& d : day_words()) texts.push_back(d);
    for (const auto& c : category_names()) texts.push_back(c);
    for (const auto& c : fallback_labels()) texts.push_back(c);
    return word_set(texts);
  }();
  return s;
}

std::vector<std::string> cues_of(const json& label) { return label.at("cues").get<std::vector<std::string>>(); }

class Classify final : public Family {
 public:
  const char* name() const override { return "classify"; }
  const char* description() const override {
    return "pick one of 3-5 labels, each defined in words by cue words (optional fallback label)";
  }

  json draw_params(Rng& r, const Words& w) const override {
    const size_t n = static_cast<size_t>(r.range(3, 5));
    std::vector<size_t> idx = r.sample_indices(category_names().size(), n);
    std::set<std::string> avoid = reserved();
    json labels = json::array();
    for (size_t i : idx) {
      const size_t n_cues = static_cast<size_t>(r.range(2, 3));
      std::vector<std::string> cues = w.pick_distinct(r, n_cues, avoid);
      for (const auto& c : cues) avoid.insert(c);
      labels.push_back({{"name", category_names()[i]}, {"cues", cues}});
    }
    json p = {{"labels", labels}};
    p["fallback"] = r.chance(0.4) ? r.pick(fallback_labels()) : "";
    return p;
  }

  std::string instruction(const json& p, Rng& r) const override {
    const json& labels = p.at("labels");
    const std::string fb = p.at("fallback").get<std::string>();
    std::string s;
    switch (r.below(4)) {
      case 0:
        s = "Classify the message into exactly one category.\n";
        for (const auto& l : labels) s += "- " + l.at("name").get<std::string>() + ": it mentions " + phrase_list(cues_of(l), "or") + "\n";
        if (!fb.empty()) s += "If no category applies, answer \"" + fb + "\".\n";
        s += "Answer with the category name only.";
        break;
      case 1: {
        std::vector<std::string> parts;
        for (const auto& l : labels) parts.push_back(l.at("name").get<std::string>() + " (keywords: " + join(cues_of(l), ", ") + ")");
        s = "Which topic is this text about? The topics are " + phrase_list(parts, "and") + ". Reply with one topic.";
        if (!fb.empty()) s += " Reply " + fb + " when none fits.";
        break;
      }
      case 2: {
        std::vector<std::string> parts;
        for (const auto& l : labels) {
          parts.push_back("use \"" + l.at("name").get<std::string>() + "\" when it talks about " + phrase_list(cues_of(l), "or"));
        }
        s = "Label the input: " + join(parts, "; ") + ".";
        if (!fb.empty()) s += " Otherwise use \"" + fb + "\".";
        s += " Output just the label.";
        break;
      }
      default:
        s = "Sort each message into a bucket by the words it contains:\n";
        for (const auto& l : labels) s += l.at("name").get<std::string>() + " = " + join(cues_of(l), " / ") + "\n";
        if (!fb.empty()) s += "(no match) = " + fb + "\n";
        s += "Return only the bucket name.";
        break;
    }
    return s;
  }

  Sample sample(const json& p, Rng& r, const Words& w) const override {
    const json& labels = p.at("labels");
    const std::string fb = p.at("fallback").get<std::string>();
    std::set<std::string> avoid = reserved();
    for (const auto& l : labels) {
      for (const auto& c : cues_of(l)) avoid.insert(c);
    }
    const bool use_fb = !fb.empty() && r.chance(0.2);
    Sample s;
    Slot cue{"cue", "", true};
    if (use_fb) {
      cue = Slot{"cue", w.pick(r, avoid), false};
      s.output = fb;
    } else {
      const json& l = labels[r.below(labels.size())];
      cue.value = r.pick(cues_of(l));
      s.output = l.at("name").get<std::string>();
    }
    s.segs = render(r.pick(frames()), {cue, {"w1", w.pick(r, avoid), false}, {"day", r.pick(day_words()), false}});
    if (r.chance(0.5)) capitalize_first(s.segs);
    return s;
  }
};

}  // namespace

const Family& family_classify() {
  static const Classify f;
  return f;
}

}  // namespace paw::data
