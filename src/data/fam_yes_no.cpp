// yes_no: a yes/no question about the input (does it mention a word, contain a number above a
// threshold, contain an email address, is it a question, has it more than N words), answered
// with the spec's pair of answer words.
#include <algorithm>

#include "data/family.hpp"
#include "data/text.hpp"
#include "data/values.hpp"

namespace paw::data {
namespace {

const char* const kQuestions[] = {"mentions", "number_above", "has_email", "is_question", "more_words"};
struct Answers {
  const char* yes;
  const char* no;
};
const Answers kAnswers[] = {{"yes", "no"}, {"Yes", "No"}, {"true", "false"}, {"y", "n"}, {"YES", "NO"}, {"1", "0"}};

const std::vector<std::string>& statement_frames() {
  static const std::vector<std::string> v = {"the {a} and the {b} were left near the {c}", "we moved the {a} next to the {b}",
                                             "my {a} reminded me of a {b}",                "the {a} is bigger than the {b} today",
                                             "nobody saw the {a} or the {b}"};
  return v;
}
const std::vector<std::string>& question_frames() {
  static const std::vector<std::string> v = {"did anyone see the {a} near the {b}?", "is the {a} bigger than the {b}?",
                                             "where should we put the {a} and the {b}?", "can the {a} fit in the {b}?"};
  return v;
}
const std::set<std::string>& reserved() {
  static const std::set<std::string> s = [] {
    std::vector<std::string> t = statement_frames();
    t.insert(t.end(), question_frames().begin(), question_frames().end());
    t.insert(t.end(), {"we counted and please write to about the"});
    return word_set(t);
  }();
  return s;
}

class YesNo final : public Family {
 public:
  const char* name() const override { return "yes_no"; }
  const char* description() const override {
    return "answer a yes/no question about the input (mentions a word, number above N, has an email, is a question, word count)";
  }

  json draw_params(Rng& r, const Words& w) const override {
    const std::string q = r.pick(kQuestions);
    const Answers& a = r.pick(kAnswers);
    json p = {{"question", q}, {"yes", a.yes}, {"no", a.no}};
    if (q == "mentions") p["word"] = w.pick(r, reserved());
    if (q == "number_above") p["threshold"] = 10 * r.range(1, 50);
    if (q == "more_words") p["threshold"] = r.range(5, 12);
    return p;
  }

  std::string instruction(const json& p, Rng& r) const override {
    const std::string q = p.at("question");
    const std::string yes = p.at("yes"), no = p.at("no");
    std::string ask;
    if (q == "mentions") ask = "Does the text mention the word \"" + p.at("word").get<std::string>() + "\"?";
    else if (q == "number_above") ask = "Does the text contain a number greater than " + std::to_string(p.at("threshold").get<int64_t>()) + "?";
    else if (q == "has_email") ask = "Does the text contain an email address?";
    else if (q == "is_question") ask = "Is the text a question (does it end with a question mark)?";
    else ask = "Does the text have more than " + std::to_string(p.at("threshold").get<int64_t>()) + " words?";
    switch (r.below(3)) {
      case 0: return ask + " Answer " + yes + " or " + no + ".";
      case 1: return "Answer the question about each input with " + yes + " or " + no + " only. Question: " + ask;
      default: return "Check: " + ask + " Reply \"" + yes + "\" if so, otherwise \"" + no + "\".";
    }
  }

  Sample sample(const json& p, Rng& r, const Words& w) const override {
    const std::string q = p.at("question");
    const std::string yes = p.at("yes"), no = p.at("no");
    std::set<std::string> avoid = reserved();
    if (p.contains("word")) avoid.insert(p.at("word").get<std::string>());
    std::vector<Slot> slots = {{"a", w.pick(r, avoid)}, {"b", w.pick(r, avoid)}, {"c", w.pick(r, avoid)}};
    Sample s;
    bool answer = r.chance(0.5);
    if (q == "mentions") {
      if (answer) {
        const size_t k = r.below(2);  // the word replaces {a} or {b}
        slots[k] = Slot{slots[k].name, p.at("word").get<std::string>(), true};
      }
      s.segs = render(r.pick(statement_frames()), slots);
    } else if (q == "number_above") {
      const int64_t th = p.at("threshold").get<int64_t>();
      const int64_t n1 = r.range(0, answer ? th * 2 : th);
      const int64_t n2 = answer ? r.range(th + 1, th * 2 + 10) : r.range(0, th);
      s.segs = render("we counted {n1} {a} and {n2} {b}",
                      {{"n1", std::to_string(n1), true}, {"n2", std::to_string(n2), true}, slots[0], slots[1]});
      answer = n1 > th || n2 > th;
    } else if (q == "has_email") {
      const std::string who = answer ? random_email(r, w) : random_person(r);
      s.segs = render("please write to {who} about the {a}", {{"who", who, true}, slots[0]});
    } else if (q == "is_question") {
      s.segs = render(r.pick(answer ? question_frames() : statement_frames()), slots);
    } else {
      const int64_t th = p.at("threshold").get<int64_t>();
      // Words chosen around the threshold; the answer is recounted after noise (fillers add words).
      const int64_t n = r.range(std::max<int64_t>(2, th - 3), th + 3);
      std::vector<std::string> ws;
      for (int64_t i = 0; i < n; ++i) ws.push_back(w.pick(r, avoid));
      s.segs = {Seg{join(ws, " "), false}};
      s.finalize = [th, yes, no](const std::vector<Seg>& segs) {
        const std::string t = concat(segs);
        int64_t count = 0;
        bool in_word = false;
        for (char c : t) {
          const bool space = c == ' ' || c == '\t' || c == '\n';
          if (!space && !in_word) ++count;
          in_word = !space;
        }
        return count > th ? yes : no;
      };
      return s;
    }
    if (r.chance(0.5)) capitalize_first(s.segs);
    s.output = answer ? yes : no;
    return s;
  }
};

}  // namespace

const Family& family_yes_no() {
  static const YesNo f;
  return f;
}

}  // namespace paw::data
