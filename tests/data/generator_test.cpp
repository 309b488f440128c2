// FuzzyBench-synth generator: determinism, splits, held-out partitions, spec shape, noise rate,
// and every family's outputs recomputed by the independent checkers in data_checks.cpp.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>

#include "data_checks.hpp"
#include "paw/data/generator.hpp"
#include "paw/util/error.hpp"

namespace paw::test {
namespace {

using data::GenOptions;
using data::Generator;
using data::Record;
using data::Split;

GenOptions small_options(uint64_t seed = 7) {
  GenOptions o;
  o.seed = seed;
  o.n_train = 240;          // 20 per trainable family
  o.n_heldout_params = 96;  // 8 per trainable family
  o.n_heldout_family = 40;  // 20 per held-out family
  return o;
}

std::string all_jsonl(const Generator& g) {
  std::string out;
  g.for_each([&](const Record& r) { out += data::to_jsonl(r) + "\n"; });
  return out;
}

const std::vector<Record>& records() {
  static const std::vector<Record> recs = Generator(small_options()).generate_all();
  return recs;
}

// FNV-1a 64 as published (offset basis 14695981039346656037, prime 1099511628211).
uint64_t fnv1a(const std::string& s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

TEST(DataGenerator, SameSeedSameBytesDifferentSeedDifferentBytes) {
  const std::string a = all_jsonl(Generator(small_options(7)));
  const std::string b = all_jsonl(Generator(small_options(7)));
  const std::string c = all_jsonl(Generator(small_options(8)));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // Most records differ between seeds, not just one.
  const auto ra = Generator(small_options(7)).generate_all();
  const auto rc = Generator(small_options(8)).generate_all();
  size_t same = 0;
  for (size_t i = 0; i < ra.size(); ++i) same += ra[i].input == rc[i].input && ra[i].spec == rc[i].spec;
  EXPECT_LT(same, ra.size() / 10);
}

TEST(DataGenerator, RecordsDoNotDependOnSplitSizes) {
  GenOptions o = small_options();
  o.n_train = 30;
  const Generator small(o);
  const Generator big(small_options());
  for (size_t i = 0; i < 30; ++i) EXPECT_EQ(data::to_jsonl(small.record(Split::Train, i)), data::to_jsonl(big.record(Split::Train, i)));
}

TEST(DataGenerator, JsonlLinesHaveTheDocumentedFields) {
  for (const Record& r : records()) {
    const std::string line = data::to_jsonl(r);
    ASSERT_EQ(line.rfind("{\"spec\":", 0), 0u);
    const auto j = nlohmann::json::parse(line);
    for (const char* k : {"spec", "input", "output", "family", "split", "param_id"}) {
      ASSERT_TRUE(j.contains(k) && j[k].is_string()) << k;
    }
    ASSERT_TRUE(j["params"].is_object());
    ASSERT_TRUE(j["noisy"].is_boolean());
    EXPECT_EQ(j["input"], r.input);
    EXPECT_EQ(j["output"], r.output);
  }
}

TEST(DataGenerator, EveryFamilyProducesValidRecords) {
  std::map<std::string, size_t> per_family;
  const GenOptions o = small_options();
  for (const Record& r : records()) {
    ++per_family[r.family];
    EXPECT_FALSE(r.spec.empty());
    EXPECT_FALSE(r.input.empty());
    EXPECT_FALSE(r.output.empty()) << r.family << ": " << r.input;
    EXPECT_LE(r.spec.size(), o.max_spec_chars);
    EXPECT_LE(r.input.size(), o.max_input_chars);
    EXPECT_LE(r.output.size(), o.max_output_chars);
    const std::string why = check_case(r.family, r.params, r.input, r.output);
    EXPECT_EQ(why, "") << r.family << " params " << r.params.dump() << "\ninput: " << r.input << "\noutput: " << r.output;
  }
  const auto fams = data::list_families();
  size_t n_default = 0;
  for (const auto& f : fams) {
    EXPECT_FALSE(f.description.empty());
    if (!f.default_mix) {
      EXPECT_EQ(per_family.count(f.name), 0u) << f.name << " is generated without being named";
      continue;
    }
    ++n_default;
    EXPECT_GE(per_family[f.name], 8u) << f.name;
  }
  EXPECT_GE(n_default, 12u);
}

// The copy tasks (curriculum material) are generated only when named; their answers are copied
// from the input (echo) or found in the spec (sequence_next, table_lookup), checked independently.
TEST(DataGenerator, CopyFamiliesGenerateValidRecordsWhenNamed) {
  GenOptions o = small_options(5);
  o.families = {"echo", "sequence_next", "table_lookup"};
  o.n_train = 150;
  o.n_heldout_params = 60;
  o.n_heldout_family = 0;
  std::map<std::string, size_t> per_family;
  std::set<std::string> train_ids;
  std::vector<std::string> held_ids;
  for (const Record& r : Generator(o).generate_all()) {
    ++per_family[r.family];
    if (r.split == Split::Train) {
      train_ids.insert(r.param_id);
    } else {
      held_ids.push_back(r.param_id);
    }
    EXPECT_EQ(check_case(r.family, r.params, r.input, r.output), "")
        << r.family << " params " << r.params.dump() << "\ninput: " << r.input << "\noutput: " << r.output;
    const auto ex = spec_examples(r.spec);
    EXPECT_GE(ex.size(), 3u) << r.spec;
    for (const auto& [in, out] : ex) {
      EXPECT_NE(in, r.input);
      EXPECT_EQ(check_case(r.family, r.params, in, out), "") << r.family << " example\ninput: " << in << "\noutput: " << out;
    }
    if (r.family == "echo") {
      EXPECT_EQ(r.output, r.input);  // noise never touches a copied input
    } else {
      EXPECT_NE(r.spec.find(r.output), std::string::npos) << "the answer must be in the spec";
    }
  }
  for (const char* f : {"echo", "sequence_next", "table_lookup"}) EXPECT_GE(per_family[f], 60u) << f;
  for (const auto& id : held_ids) EXPECT_EQ(train_ids.count(id), 0u) << id;
}

TEST(DataGenerator, SpecsHoldThreeToFiveCorrectWorkedExamples) {
  for (const Record& r : records()) {
    const auto ex = spec_examples(r.spec);
    size_t n_in = 0, n_out = 0;
    for (size_t at = r.spec.find("Input: "); at != std::string::npos; at = r.spec.find("Input: ", at + 1)) ++n_in;
    for (size_t at = r.spec.find("Output: "); at != std::string::npos; at = r.spec.find("Output: ", at + 1)) ++n_out;
    EXPECT_GE(ex.size(), 3u) << r.spec;
    EXPECT_LE(ex.size(), 5u) << r.spec;
    EXPECT_EQ(n_in, ex.size());
    EXPECT_EQ(n_out, ex.size());
    std::set<std::string> inputs;
    for (const auto& [in, out] : ex) {
      EXPECT_TRUE(inputs.insert(in).second) << "repeated example input: " << in;
      EXPECT_NE(in, r.input) << "the case repeats an example";
      const std::string why = check_case(r.family, r.params, in, out);
      EXPECT_EQ(why, "") << r.family << " example\ninput: " << in << "\noutput: " << out;
    }
  }
}

TEST(DataGenerator, HeldOutParameterisationsNeverAppearInTrain) {
  std::set<std::string> train_ids, held_ids, train_params, held_params;
  const double fraction = small_options().heldout_param_fraction;
  for (const Record& r : records()) {
    // param_id is FNV-1a of the documented canonical string.
    const uint64_t h = fnv1a("fuzzybench-synth/v1\n" + r.family + "\n" + r.params.dump());
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    EXPECT_EQ(r.param_id, hex);
    const bool held_bucket = static_cast<double>(h >> 11) / 9007199254740992.0 < fraction;
    if (r.split == Split::Train) {
      EXPECT_FALSE(held_bucket);
      train_ids.insert(r.param_id);
      train_params.insert(r.family + r.params.dump());
    } else if (r.split == Split::HeldoutParams) {
      EXPECT_TRUE(held_bucket);
      held_ids.insert(r.param_id);
      held_params.insert(r.family + r.params.dump());
    }
  }
  EXPECT_GE(held_ids.size(), 80u);  // nearly every held-out record has its own parameterisation
  for (const auto& id : held_ids) EXPECT_EQ(train_ids.count(id), 0u) << id;
  for (const auto& p : held_params) EXPECT_EQ(train_params.count(p), 0u) << p;

  // Label sets (classify) and option lists (intent_route) specifically.
  std::set<std::string> train_sets, held_sets;
  for (const Record& r : records()) {
    std::string key;
    if (r.family == "classify") key = r.params["labels"].dump();
    else if (r.family == "intent_route") key = r.params["options"].dump() + r.params["style"].dump();
    else continue;
    (r.split == Split::Train ? train_sets : held_sets).insert(key);
  }
  EXPECT_FALSE(held_sets.empty());
  for (const auto& s : held_sets) EXPECT_EQ(train_sets.count(s), 0u) << s;
}

TEST(DataGenerator, HeldOutFamiliesStayOutOfTrain) {
  const std::set<std::string> held = {"keyword_tag", "pii_redact"};
  std::set<std::string> seen_held;
  for (const Record& r : records()) {
    if (r.split == Split::HeldoutFamily) {
      EXPECT_TRUE(held.count(r.family)) << r.family;
      seen_held.insert(r.family);
    } else {
      EXPECT_FALSE(held.count(r.family)) << r.family << " leaked into " << data::split_name(r.split);
    }
  }
  EXPECT_EQ(seen_held, held);
}

TEST(DataGenerator, NoiseAppearsAtTheConfiguredRateAndKeepsAnswersRight) {
  GenOptions clean = small_options(11);
  clean.noise_rate = 0.0;
  GenOptions noisy = clean;
  noisy.noise_rate = 0.3;
  GenOptions always = clean;
  always.noise_rate = 1.0;
  const auto a = Generator(clean).generate_all();
  const auto b = Generator(noisy).generate_all();
  const auto c = Generator(always).generate_all();
  ASSERT_EQ(a.size(), b.size());
  size_t changed = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_FALSE(a[i].noisy);
    // Noise draws from its own stream: the spec and the parameterisation never change.
    EXPECT_EQ(a[i].spec, b[i].spec);
    EXPECT_EQ(a[i].param_id, b[i].param_id);
    EXPECT_EQ(b[i].noisy, a[i].input != b[i].input) << b[i].input;
    changed += a[i].input != b[i].input;
    EXPECT_NE(a[i].input, c[i].input) << "rate 1 left an input clean: " << a[i].family << " " << a[i].input;
    EXPECT_EQ(check_case(c[i].family, c[i].params, c[i].input, c[i].output), "")
        << c[i].family << "\ninput: " << c[i].input << "\noutput: " << c[i].output;
  }
  // 376 records, p = 0.3: standard deviation ~0.024; allow ~3.5 of them.
  const double rate = static_cast<double>(changed) / static_cast<double>(a.size());
  EXPECT_NEAR(rate, 0.3, 0.085);
}

TEST(DataGenerator, FamilySelectionAndBadOptions) {
  GenOptions o = small_options();
  o.families = {"date_norm", "json_repair"};
  o.n_heldout_family = 0;
  const Generator g(o);
  for (const Record& r : g.generate_all()) EXPECT_TRUE(r.family == "date_norm" || r.family == "json_repair");

  GenOptions bad = small_options();
  bad.families = {"no_such_family"};
  EXPECT_THROW(Generator{bad}, Error);

  GenOptions none_held = small_options();
  none_held.families = {"date_norm"};  // heldout_family count > 0 but no held-out family selected
  EXPECT_THROW(Generator{none_held}, Error);

  GenOptions no_words = small_options();
  no_words.words_path = "/nonexistent/words";
  try {
    Generator g2(no_words);
    FAIL() << "expected paw::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("wamerican"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("/nonexistent/words"), std::string::npos) << e.what();
  }
}

TEST(DataChecks, LenientJsonParserAgreesWithHandWrittenCases) {
  // The checker itself must be right: hand-repaired objects.
  EXPECT_EQ(lenient_json("{a: 1, 'b': 'x y' \"c\": True,}").dump(), R"({"a":1,"b":"x y","c":true})");
  EXPECT_EQ(lenient_json("{\"k\": [1, 2,], \"n\": None").dump(), R"({"k":[1,2],"n":null})");
  EXPECT_THROW(lenient_json("[1]"), std::runtime_error);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(check_case("date_norm", {{"formats", {"us_slash"}}}, "on 03/05/2021", "2021-03-05"), "");
  EXPECT_NE(check_case("date_norm", {{"formats", {"eu_slash"}}}, "on 03/05/2021", "2021-03-05"), "");
  EXPECT_NE(check_case("date_norm", {{"formats", {"weekday_long"}}}, "Monday, March 5, 2021", "2021-03-05"), "");
  EXPECT_EQ(check_case("date_norm", {{"formats", {"weekday_long"}}}, "Friday, March 5, 2021", "2021-03-05"), "");
}

}  // namespace
}  // namespace paw::test
