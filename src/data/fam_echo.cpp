// echo: repeat the input words exactly. The simplest in-context copy task: the answer is in the
// input, never in the spec, so only a model that copies from context can solve it. Training
// curricula start with it (docs/TRAINING.md, "Stages"): mixed into FuzzyBench-synth data the
// small interpreters never learned to copy, trained on alone first they do.
#include "data/family.hpp"
#include "data/text.hpp"

namespace paw::data {
namespace {

// What the instructions call the words (the parameterisation besides the length). The words
// themselves are always space-separated: with other separators (", ", " | ", tabs) a word is
// tokenized differently at each position, and a 600-step copy stage of S no longer learnt to
// copy (held-out answer NLL 3.77 after 600 steps with eight separators, 2.07 after 300 with
// spaces only).
const char* const kNouns[] = {"words", "items", "tags", "names", "codes", "keywords", "entries", "tokens"};

class Echo final : public Family {
 public:
  const char* name() const override { return "echo"; }
  const char* description() const override {
    return "repeat the input's words exactly";
  }
  bool in_default_mix() const override { return false; }

  // 8 nouns x 6 lengths = 48 parameterisations, enough for a non-empty held-out bucket.
  json draw_params(Rng& r, const Words&) const override {
    return {{"noun", r.pick(kNouns)}, {"max_words", r.range(3, 8)}};
  }

  std::string instruction(const json& p, Rng& r) const override {
    const std::string n = std::to_string(p.at("max_words").get<int>());
    const std::string noun = p.at("noun");
    switch (r.below(3)) {
      case 0: return "Repeat the input exactly, word for word.";
      case 1: return "Copy the input: a list of up to " + n + " " + noun + ". Output the same " + noun + " in the same order.";
      default: return "Echo the " + noun + " you are given, unchanged.";
    }
  }

  Sample sample(const json& p, Rng& r, const Words& w) const override {
    const auto ws = w.pick_distinct(r, static_cast<size_t>(r.range(2, p.at("max_words").get<int64_t>())));
    Sample s;
    s.segs = {Seg{join(ws, " "), true}};
    s.output = s.segs[0].text;
    s.noise_kinds = 0;  // any change to the input is a change to the answer
    return s;
  }
};

}  // namespace

const Family& family_echo() {
  static const Echo f;
  return f;
}

}  // namespace paw::data
