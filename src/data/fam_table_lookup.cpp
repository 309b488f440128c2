// table_lookup: the spec lists key: value pairs of unrelated words; the input asks for one key
// and the answer is its value. Copying guided by a key, the core of most extraction tasks.
#include <iterator>
#include <set>

#include "data/family.hpp"
#include "data/text.hpp"

namespace paw::data {
namespace {

const char* const kQuestions[] = {"what is {key}?", "{key}", "value of {key}", "Look up {key}.", "{key} = ?"};

class TableLookup final : public Family {
 public:
  const char* name() const override { return "table_lookup"; }
  const char* description() const override {
    return "answer with the value listed for the key named in the input";
  }
  bool in_default_mix() const override { return false; }

  json draw_params(Rng& r, const Words& w) const override {
    const size_t n = static_cast<size_t>(r.range(4, 7));
    // Keys and values never share a word, and no key is a word of the questions ("what", "value").
    static const std::set<std::string> question_words = word_set(std::vector<std::string>(std::begin(kQuestions), std::end(kQuestions)));
    const auto all = w.pick_distinct(r, 2 * n, question_words);
    return {{"keys", std::vector<std::string>(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n))},
            {"values", std::vector<std::string>(all.begin() + static_cast<std::ptrdiff_t>(n), all.end())}};
  }

  std::string instruction(const json& p, Rng& r) const override {
    const auto keys = p.at("keys").get<std::vector<std::string>>();
    const auto vals = p.at("values").get<std::vector<std::string>>();
    // One of three table layouts, each ending in a newline.
    const size_t style = r.below(3);
    std::vector<std::string> rows;
    for (size_t i = 0; i < keys.size(); ++i) {
      rows.push_back(style == 0 ? "- " + keys[i] + ": " + vals[i]
                     : style == 1 ? keys[i] + " = " + vals[i]
                                  : keys[i] + " -> " + vals[i]);
    }
    const std::string table = join(rows, style == 2 ? ", " : "\n") + "\n";
    switch (r.below(3)) {
      case 0: return "Answer with the value listed for the key in the question.\n" + table.substr(0, table.size() - 1);
      case 1: return "Lookup table:\n" + table + "Output only the value of the key the input asks for.";
      default: return "Each key maps to one value:\n" + table + "Given a key, reply with its value.";
    }
  }

  Sample sample(const json& p, Rng& r, const Words&) const override {
    const auto keys = p.at("keys").get<std::vector<std::string>>();
    const auto vals = p.at("values").get<std::vector<std::string>>();
    const size_t k = r.below(keys.size());
    Sample s;
    s.segs = render(r.pick(kQuestions), {{"key", keys[k], true}});
    s.output = vals[k];
    return s;
  }
};

}  // namespace

const Family& family_table_lookup() {
  static const TableLookup f;
  return f;
}

}  // namespace paw::data
