// sentiment: review polarity with custom label names (positive/negative, good/bad, ...,
// optionally a neutral label) and custom cue words the spec declares positive or negative.
#include "data/family.hpp"
#include "data/pools.hpp"
#include "data/text.hpp"

namespace paw::data {
namespace {

struct LabelSet {
  const char* pos;
  const char* neg;
  const char* neu;
};
const LabelSet kLabelSets[] = {
    {"positive", "negative", "neutral"}, {"good", "bad", "meh"},        {"happy", "unhappy", "neutral"},
    {"thumbs_up", "thumbs_down", "shrug"}, {"pos", "neg", "neu"},        {"like", "dislike", "indifferent"},
    {"satisfied", "dissatisfied", "neutral"}, {"praise", "complaint", "other"}, {"+", "-", "0"},
    {"POSITIVE", "NEGATIVE", "NEUTRAL"},  {"love", "hate", "ok"},        {"5 stars", "1 star", "3 stars"},
};

const std::vector<std::string>& pos_words() {
  static const std::vector<std::string> v = {"great",     "excellent", "wonderful", "amazing",   "fantastic",
                                             "lovely",    "perfect",   "superb",    "delightful", "awesome",
                                             "brilliant", "outstanding", "pleasant", "impressive"};
  return v;
}
const std::vector<std::string>& neg_words() {
  static const std::vector<std::string> v = {"terrible", "awful",  "horrible", "disappointing", "poor",
                                             "bad",      "dreadful", "broken", "useless",       "rude",
                                             "slow",     "dirty",  "overpriced", "mediocre"};
  return v;
}
const std::vector<std::string>& subjects() {
  static const std::vector<std::string> v = {"food",    "service", "hotel",  "room",     "delivery", "phone",
                                             "movie",   "staff",   "app",    "update",   "coffee",   "pizza",
                                             "concert", "seller",  "laptop", "headphones", "book",   "game",
                                             "course",  "car",     "flight", "shoes",    "support",  "camera"};
  return v;
}
// {adj} carries the polarity.
const std::vector<std::string>& polar_frames() {
  static const std::vector<std::string> v = {
      "the {subj} was {adj}",         "{adj} {subj}, nothing more to say", "honestly the {subj} is {adj}",
      "really {adj} {subj}",          "{subj}: {adj}!",                 "I found the {subj} {adj} overall",
      "my {subj} arrived and it is {adj}", "what a {adj} {subj}",       "review of the {subj} - {adj}",
  };
  return v;
}
const std::vector<std::string>& neutral_frames() {
  static const std::vector<std::string> v = {
      "the {subj} arrived on {day}", "I bought the {subj} last week", "the {subj} comes in a {w1} box",
      "used the {subj} for a {w1} project", "the {subj} is the same as the {w1} one", "got the {subj} {day}",
  };
  return v;
}

const std::set<std::string>& reserved() {
  static const std::set<std::string> s = [] {
    std::vector<std::string> t = polar_frames();
    for (const auto* v : {&neutral_frames(), &pos_words(), &neg_words(), &subjects(), &day_words()}) {
      t.insert(t.end(), v->begin(), v->end());
    }
    t.push_back("not");
    for (const auto& l : kLabelSets) t.insert(t.end(), {l.pos, l.neg, l.neu});
    return word_set(t);
  }();
  return s;
}

class Sentiment final : public Family {
 public:
  const char* name() const override { return "sentiment"; }
  const char* description() const override {
    return "review polarity with custom label names and custom cue words declared positive or negative";
  }

  json draw_params(Rng& r, const Words& w) const override {
    const LabelSet& l = r.pick(kLabelSets);
    json labels = {{"pos", l.pos}, {"neg", l.neg}};
    if (r.chance(0.5)) labels["neu"] = l.neu;
    json cues = json::array();
    const size_t n = static_cast<size_t>(r.range(1, 3));
    for (const auto& word : w.pick_distinct(r, n, reserved())) {
      cues.push_back({{"word", word}, {"polarity", r.chance(0.5) ? "pos" : "neg"}});
    }
    return {{"labels", labels}, {"cues", cues}};
  }

  std::string instruction(const json& p, Rng& r) const override {
    const json& l = p.at("labels");
    const std::string pos = l.at("pos"), neg = l.at("neg");
    const bool has_neu = l.contains("neu");
    std::vector<std::string> pc, nc;
    for (const auto& c : p.at("cues")) (c.at("polarity") == "pos" ? pc : nc).push_back("'" + c.at("word").get<std::string>() + "'");
    std::string cues;
    if (!pc.empty()) cues += " Treat " + phrase_list(pc, "and") + " as positive.";
    if (!nc.empty()) cues += " Treat " + phrase_list(nc, "and") + " as negative.";
    const std::string neu = has_neu ? l.at("neu").get<std::string>() : "";
    switch (r.below(3)) {
      case 0:
        return "Decide whether the review is positive or negative and answer \"" + pos + "\" or \"" + neg + "\"" +
               (has_neu ? " (or \"" + neu + "\" when it expresses no opinion)" : "") + "." + cues;
      case 1:
        return "Sentiment check. Output " + pos + " for a favourable review, " + neg + " for an unfavourable one" +
               (has_neu ? ", " + neu + " if it is just a fact" : "") + "." + cues + " Reply with the label only.";
      default:
        return "Read the customer's comment and tell me how they feel: " + pos + " / " + neg +
               (has_neu ? " / " + neu : "") + "." + cues + " Note that \"not\" before a good word makes it " + neg + ".";
    }
  }

  Sample sample(const json& p, Rng& r, const Words& w) const override {
    const json& l = p.at("labels");
    const json& cues = p.at("cues");
    std::set<std::string> avoid = reserved();
    for (const auto& c : cues) avoid.insert(c.at("word").get<std::string>());
    const std::string subj = r.chance(0.7) ? r.pick(subjects()) : w.pick(r, avoid);
    Sample s;
    if (l.contains("neu") && r.chance(0.2)) {
      s.segs = render(r.pick(neutral_frames()),
                      {{"subj", subj}, {"day", r.pick(day_words())}, {"w1", w.pick(r, avoid)}});
      s.output = l.at("neu");
    } else {
      std::string adj;
      std::string pol;
      if (r.chance(0.5)) {
        const json& c = cues[r.below(cues.size())];
        adj = c.at("word");
        pol = c.at("polarity");
      } else if (r.chance(0.5)) {
        adj = r.pick(pos_words());
        pol = "pos";
        if (r.chance(0.3)) {
          adj = "not " + adj;  // a negated good word reads as a complaint
          pol = "neg";
        }
      } else {
        adj = r.pick(neg_words());
        pol = "neg";
      }
      s.segs = render(r.pick(polar_frames()), {{"subj", subj}, {"adj", adj, true}});
      s.output = l.at(pol);
    }
    if (r.chance(0.5)) capitalize_first(s.segs);
    return s;
  }
};

}  // namespace

const Family& family_sentiment() {
  static const Sentiment f;
  return f;
}

}  // namespace paw::data
