// The evaluation harness against the independent numpy reference: the prompt it builds, the
// greedy answer it reads back and the scores it counts are checked against a greedy
// continuation computed by tests/reference/ref_forward.py from a prompt written out here.
#include <gtest/gtest.h>

#include <fstream>

#include "common/model_test_util.hpp"
#include "paw/eval/evaluator.hpp"
#include "paw/eval/report.hpp"
#include "paw/util/error.hpp"

namespace paw::eval {
namespace {

// The prompted format, spelled out independently of paw/data/prompt.hpp.
std::string literal_prompt(const std::string& spec, const std::string& input) {
  return "<|im_start|>user\n" + spec + "\n[INPUT]\n" + input + "\n[END_INPUT]\n<|im_end|>\n<|im_start|>assistant\n";
}

struct EvalFixture {
  std::string path;
  std::shared_ptr<const Model> model;
  Tokenizer tok;
};

const EvalFixture& setup() {
  static EvalFixture s = [] {
    EvalFixture r;
    r.path = test::fixture("model --arch qwen3 --preset tiny --type f32 --seed 91");
    r.model = Model::load(r.path);
    r.tok = Tokenizer::from_gguf(*r.model->gguf());
    return r;
  }();
  return s;
}

EvalOptions options(int64_t max_tokens) {
  EvalOptions o;
  o.max_tokens = max_tokens;
  o.session.n_ctx = 256;
  o.session.kv_type = DType::F32;  // the reference is float64: greedy ids agree exactly
  o.session.n_threads = 2;
  return o;
}

// The reference's greedy answer: at most n tokens, cut at <|im_end|>.
std::string reference_answer(const EvalFixture& s, const std::string& spec, const std::string& input, int n,
                             int64_t* n_prompt = nullptr) {
  const auto prompt = s.tok.encode(literal_prompt(spec, input), EncodeOptions{true, false});
  if (n_prompt) *n_prompt = static_cast<int64_t>(prompt.size());
  test::RefArgs ra;
  ra.greedy = n;
  std::vector<int32_t> ids = test::reference(s.path, prompt, ra).greedy;
  const int32_t im_end = *s.tok.token_id("<|im_end|>");
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] == im_end) ids.resize(i);
  DecodeOptions d;
  d.skip_special = true;
  return s.tok.decode(ids, d);
}

TEST(Evaluator, ScoresGreedyAnswersAgainstTheReference) {
  const EvalFixture& s = setup();
  std::vector<EvalCase> cases = {
      {"Answer with one word.", "the sky is", "", "colors", "heldout_params"},
      {"Say yes or no.", "is water wet", "definitely not this answer", "yes_no", "heldout_params"},
      {"Copy the input.", "alpha beta", "", "copy", "heldout_family"},
  };
  int64_t n_prompt0 = 0;
  cases[0].expected = reference_answer(s, cases[0].spec, cases[0].input, 6, &n_prompt0);
  cases[2].expected = "  " + reference_answer(s, cases[2].spec, cases[2].input, 6) + "\n";
  ASSERT_FALSE(cases[0].expected.empty());

  const ModelReport r = evaluate(s.model, s.tok, cases, options(6));
  ASSERT_EQ(r.cases.size(), 3u);
  EXPECT_EQ(r.cases[0].prediction, cases[0].expected);
  EXPECT_TRUE(r.cases[0].exact);
  EXPECT_TRUE(r.cases[0].normalised);
  EXPECT_EQ(r.cases[0].prompt_tokens, n_prompt0);
  EXPECT_FALSE(r.cases[1].exact);
  EXPECT_FALSE(r.cases[1].normalised);
  EXPECT_TRUE(r.cases[2].exact);  // surrounding whitespace of the expected text does not count
  EXPECT_EQ(r.total.n, 3);
  EXPECT_EQ(r.total.exact, 2);
  EXPECT_EQ(r.by_split.at("heldout_params").n, 2);
  EXPECT_EQ(r.by_split.at("heldout_params").exact, 1);
  EXPECT_EQ(r.by_split.at("heldout_family").exact, 1);
  EXPECT_EQ((r.by_split_family.at({"heldout_params", "yes_no"}).exact), 0);
  EXPECT_GT(r.prompt_tokens, 0);
  EXPECT_LE(r.answer_tokens, 18);
  EXPECT_EQ(r.n_skipped, 0);
}

TEST(Evaluator, PromptThatDoesNotFitIsSkippedAndScoredWrong) {
  const EvalFixture& s = setup();
  std::string long_spec;
  for (int i = 0; i < 400; ++i) long_spec += "word ";
  const std::vector<EvalCase> cases = {{long_spec, "x", "x", "f", "train"}};
  const ModelReport r = evaluate(s.model, s.tok, cases, options(4));
  EXPECT_EQ(r.n_skipped, 1);
  EXPECT_TRUE(r.cases[0].skipped);
  EXPECT_EQ(r.total.n, 1);
  EXPECT_EQ(r.total.exact, 0);
  EXPECT_EQ(r.answer_tokens, 0);
}

TEST(Evaluator, ReportsCountAndRates) {
  ModelReport a;
  a.model = "S.gguf";
  a.by_split["heldout_params"] = Score{4, 1, 2};
  a.by_split_family[{"heldout_params", "classify"}] = Score{4, 1, 2};
  a.total = Score{4, 1, 2};
  a.prompt_tokens = 1000;
  a.prompt_seconds = 0.5;
  a.answer_tokens = 30;
  a.answer_seconds = 0.3;
  ModelReport b = a;
  b.model = "L.gguf";
  b.by_split["heldout_params"] = Score{4, 3, 4};
  const std::vector<ModelReport> reps = {a, b};
  const auto j = json_report(reps);
  EXPECT_EQ(j["models"][0]["splits"]["heldout_params"]["exact_rate"].get<double>(), 0.25);
  EXPECT_EQ(j["models"][1]["splits"]["heldout_params"]["normalised_rate"].get<double>(), 1.0);
  EXPECT_EQ(j["models"][0]["prompt_tokens_per_s"].get<double>(), 2000.0);
  EXPECT_NEAR(j["models"][0]["answer_tokens_per_s"].get<double>(), 100.0, 1e-9);
  const std::string md = markdown_report(reps);
  EXPECT_NE(md.find("| **heldout_params** | 4 | 25.0 | 50.0 | 75.0 | 100.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("|   classify | 4 | 25.0 | 50.0 |"), std::string::npos) << md;
}

TEST(Evaluator, JsonlCasesNameTheBadLine) {
  const std::string dir = test::scratch_dir("eval-jsonl");
  const std::string good = dir + "/good.jsonl";
  std::ofstream(good) << R"({"spec":"s","input":"i","output":"o","family":"f"})" << "\n\n"
                      << R"({"spec":"s2","input":"i2","output":"o2","split":"x"})" << "\n";
  const auto cases = jsonl_cases(good);
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[0].family, "f");
  EXPECT_EQ(cases[0].split, "-");
  EXPECT_EQ(cases[1].split, "x");
  EXPECT_EQ(cases[1].expected, "o2");

  const std::string bad = dir + "/bad.jsonl";
  std::ofstream(bad) << R"({"spec":"s","input":"i","output":"o"})" << "\n" << R"({"spec":"s","input":3,"output":"o"})" << "\n";
  try {
    jsonl_cases(bad);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("input"), std::string::npos) << e.what();
  }
}

TEST(Evaluator, GeneratorCasesAreTheGeneratorsRecords) {
  data::GenOptions g;
  g.n_train = 0;
  g.n_heldout_params = 5;
  g.n_heldout_family = 3;
  const std::vector<data::Split> splits = {data::Split::HeldoutParams, data::Split::HeldoutFamily};
  const auto cases = generator_cases(g, splits);
  ASSERT_EQ(cases.size(), 8u);
  const data::Generator gen(g);
  const data::Record r = gen.record(data::Split::HeldoutFamily, 2);
  EXPECT_EQ(cases[7].spec, r.spec);
  EXPECT_EQ(cases[7].expected, r.output);
  EXPECT_EQ(cases[7].split, "heldout_family");
  EXPECT_EQ(cases[7].family, r.family);
}

}  // namespace
}  // namespace paw::eval
