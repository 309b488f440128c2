// sequence_next: the spec lists a sequence of words; the answer is the word that follows the
// input word in it. An induction task: find the input in the spec, copy its successor.
#include "data/family.hpp"
#include "data/text.hpp"

namespace paw::data {
namespace {

class SequenceNext final : public Family {
 public:
  const char* name() const override { return "sequence_next"; }
  const char* description() const override {
    return "answer with the word that follows the input in a listed sequence";
  }
  bool in_default_mix() const override { return false; }

  json draw_params(Rng& r, const Words& w) const override {
    return {{"sequence", w.pick_distinct(r, static_cast<size_t>(r.range(6, 10)))}};
  }

  std::string instruction(const json& p, Rng& r) const override {
    const auto seq = p.at("sequence").get<std::vector<std::string>>();
    switch (r.below(3)) {
      case 0: return "The sequence is: " + join(seq, ", ") + ".\nGiven a word of the sequence, answer with the word that follows it.";
      case 1: return "Order: " + join(seq, " -> ") + "\nOutput the item that comes right after the input.";
      default: return "Here is a list in order:\n" + join(seq, "\n") + "\nFor each input word, give the next word of the list.";
    }
  }

  Sample sample(const json& p, Rng& r, const Words&) const override {
    const auto seq = p.at("sequence").get<std::vector<std::string>>();
    const size_t k = r.below(seq.size() - 1);  // never the last word: it has no successor
    Sample s;
    s.segs = {Seg{seq[k], true}};
    s.output = seq[k + 1];
    s.noise_kinds = kNoiseEdge;
    return s;
  }
};

}  // namespace

const Family& family_sequence_next() {
  static const SequenceNext f;
  return f;
}

}  // namespace paw::data
