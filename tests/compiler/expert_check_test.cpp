// The expert check (paw/compiler/expert_check.hpp): a spec's worked examples parsed; each
// expert's program alone (expert_coefficients) read from the compiler file's own bases; every
// expert's answer loss and argmax count against the float64 numpy forward pass
// (tests/reference/ref_forward.py) with that program's adapter; the choice rule; compile()
// with the check, with --expert, and their errors.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "paw/compiler/compiler.hpp"
#include "paw/compiler/expert_check.hpp"
#include "paw/compiler/format.hpp"
#include "paw/compiler/spec_examples.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/tensor/quantize.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/util/error.hpp"
#include "common/compiler_fixture.hpp"
#include "common/test_env.hpp"

namespace paw::compiler {
namespace {

const test::CompilerFixture& fixture() { return test::compiler_fixture(); }

// Two worked examples whose answers are single words of the fixture vocabulary.
const char* kSpec =
    "Classify the input and answer with one word.\n\nExamples:\nInput: this is a tiny test\nOutput: classify\n\n"
    "Input: the paw interpreter\nOutput: word";

// A three-expert compiler for the fixture interpreter (3 layers, so 9 bases).
const std::string& experts_compiler() {
  static const std::string path = [] {
    const auto& f = fixture();
    const std::string out = test::scratch_dir("expert_check") + "/three.gguf";
    const std::string cmd = test::tool_path("paw-fixture") + " compiler --encoder " + f.encoder + " --interpreter " +
                            f.interp + " --prefix-tokens 4 --n-bases 9 --rank 32 --seed 7 --coef-activation softmax" +
                            " --experts dates,reviews,logs -o " + out;
    if (test::run_command(cmd) != 0) throw std::runtime_error("fixture failed: " + cmd);
    return out;
  }();
  return path;
}

TEST(SpecExamples, ReadsInputOutputPairsAcrossLinesAndLineEnds) {
  auto ex = spec_examples(kSpec);
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].input, "this is a tiny test");
  EXPECT_EQ(ex[0].output, "classify");
  EXPECT_EQ(ex[1].output, "word");
  // CRLF, an Output: before any Input: (ignored), a multi-line input and answer, an empty answer.
  ex = spec_examples("Fix it.\r\nOutput: stray\r\nInput: {\"a\": 1,\r\n \"b\": 2\r\nOutput: {\"a\": 1,\r\n \"b\": 2}\r\n\r\n"
                     "Input: x\r\nOutput:   \r\n");
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].input, "{\"a\": 1,\n \"b\": 2");
  EXPECT_EQ(ex[0].output, "{\"a\": 1,\n \"b\": 2}");
  EXPECT_TRUE(spec_examples("No examples here.").empty());
}

// Expert e's program alone is, at every layer l and module, basis l * E + e of the file's bases.
TEST(ExpertCheck, AnExpertsProgramIsItsBasesInTheFile) {
  const Compiler c = Compiler::open(experts_compiler());
  const int64_t E = 3, r = c.info().rank;
  const GGUFFile g = GGUFFile::open(experts_compiler());
  for (size_t e = 0; e < 3; ++e) {
    const auto pairs = c.adapter_weights(c.expert_coefficients(e));
    for (const std::string& kind : c.info().modules) {
      const GGUFTensorInfo* ta = g.find_tensor("compiler.bases." + kind + ".a");  // [n_in, n_bases * r]
      const GGUFTensorInfo* tb = g.find_tensor("compiler.bases." + kind + ".b");  // [r, n_bases * n_out]
      ASSERT_TRUE(ta && tb) << kind;
      const int64_t n_in = ta->ne[0], n_out = tb->ne[1] / 9;
      std::vector<float> a(static_cast<size_t>(ta->n_elements())), b(static_cast<size_t>(tb->n_elements()));
      dequantize_row(ta->type, ta->data, a.data(), static_cast<int64_t>(a.size()));
      dequantize_row(tb->type, tb->data, b.data(), static_cast<int64_t>(b.size()));
      for (int64_t l = 0; l < 3; ++l) {
        const int64_t basis = l * E + static_cast<int64_t>(e);
        const LoraWeights& w = pairs.at("blk." + std::to_string(l) + "." + module_tensor(kind) + ".weight");
        ASSERT_EQ(w.a.size(), static_cast<size_t>(r * n_in));
        ASSERT_EQ(w.b.size(), static_cast<size_t>(n_out * r));
        for (int64_t i = 0; i < r * n_in; ++i) ASSERT_EQ(w.a[static_cast<size_t>(i)], a[static_cast<size_t>(basis * r * n_in + i)]);
        for (int64_t i = 0; i < n_out * r; ++i) ASSERT_EQ(w.b[static_cast<size_t>(i)], b[static_cast<size_t>(basis * n_out * r + i)]);
      }
    }
  }
  EXPECT_THROW(c.expert_coefficients(3), Error);
  EXPECT_THROW(Compiler::open(fixture().softmax).expert_coefficients(0), Error);
}

// Teacher-forced answer loss and argmax per example from the numpy reference's logits.
struct RefScore {
  int64_t answered = 0;
  double nll_per_token = 0;
};
RefScore reference_score(const std::string& adapter_path, const std::string& prompt_template) {
  const auto& f = fixture();
  const Tokenizer tok = Tokenizer::load(f.interp);
  const size_t at = prompt_template.find(kInputPlaceholder);
  const std::string prefix = prompt_template.substr(0, at), suffix = prompt_template.substr(at + kInputPlaceholder.size());
  EncodeOptions special, plain;
  plain.parse_special = false;
  const int32_t eos = tok.eos_id().value();
  RefScore s;
  double nll = 0;
  int64_t n = 0;
  for (const SpecExample& e : spec_examples(kSpec)) {
    std::vector<int32_t> ids = tok.encode(prefix, special);
    const std::vector<int32_t> in = tok.encode(e.input + suffix, special), out = tok.encode(e.output, plain);
    ids.insert(ids.end(), in.begin(), in.end());
    const size_t n_prompt = ids.size();
    ids.insert(ids.end(), out.begin(), out.end());
    std::string csv;
    for (const int32_t t : ids) csv += (csv.empty() ? "" : ",") + std::to_string(t);
    std::string text;
    EXPECT_EQ(test::run_command(test::python() + " " + test::source_dir() + "/tests/reference/ref_forward.py --model " +
                                    f.interp + " --lora " + adapter_path + " --tokens " + csv,
                                &text),
              0);
    const auto logits = nlohmann::json::parse(text)["logits"];  // [n_tokens, n_vocab]
    bool right = true;
    for (size_t t = n_prompt - 1; t < ids.size(); ++t) {
      const int32_t target = t + 1 < ids.size() ? ids[t + 1] : eos;
      const std::vector<double> row = logits[t].get<std::vector<double>>();
      const double mx = *std::max_element(row.begin(), row.end());
      double sum = 0;
      for (const double v : row) sum += std::exp(v - mx);
      nll += std::log(sum) - (row[static_cast<size_t>(target)] - mx);
      ++n;
      right = right && static_cast<size_t>(std::max_element(row.begin(), row.end()) - row.begin()) == static_cast<size_t>(target);
    }
    s.answered += right ? 1 : 0;
  }
  s.nll_per_token = nll / static_cast<double>(n);
  return s;
}

TEST(ExpertCheck, EveryExpertsScoreMatchesTheNumpyReference) {
  const Compiler c = Compiler::open(experts_compiler());
  const auto check = ExpertCheck::open(c, fixture().interp);
  const std::vector<ExpertExampleScore> scores = check->score(c, normalize_spec(kSpec), spec_examples(kSpec), "f32");
  ASSERT_EQ(scores.size(), 3u);
  for (size_t e = 0; e < 3; ++e) {
    EXPECT_EQ(scores[e].expert, c.info().experts[e]);
    EXPECT_EQ(scores[e].n_examples, 2);
    // The program compile() makes with this expert forced, its adapter run by the reference.
    CompileOptions o;
    o.expert = c.info().experts[e];
    o.adapter_type = "f32";
    const CompiledProgram p = c.compile(kSpec, o);
    EXPECT_EQ(p.expert, o.expert);
    EXPECT_EQ(p.expert_chosen_by, "option");
    const std::string adapter = test::scratch_dir("expert_check") + "/expert" + std::to_string(e) + ".gguf";
    std::ofstream(adapter, std::ios::binary)
        .write(reinterpret_cast<const char*>(p.bundle.adapter.data()), static_cast<std::streamsize>(p.bundle.adapter.size()));
    const RefScore ref = reference_score(adapter, p.bundle.prompt_template);
    EXPECT_EQ(scores[e].answered, ref.answered) << scores[e].expert;
    EXPECT_NEAR(scores[e].nll_per_token, ref.nll_per_token, 2e-3 * std::max(1.0, ref.nll_per_token)) << scores[e].expert;
  }
  // The experts differ (random bases): the scores are not one number thrice.
  EXPECT_NE(scores[0].nll_per_token, scores[1].nll_per_token);
  // Same scores for any thread count (the forward sums in a fixed order).
  ExpertCheckOptions one;
  one.n_threads = 1;
  const auto serial = ExpertCheck::open(c, fixture().interp, one)->score(c, normalize_spec(kSpec), spec_examples(kSpec), "f32");
  for (size_t e = 0; e < 3; ++e) EXPECT_EQ(serial[e].nll_per_token, scores[e].nll_per_token);
  // No examples, or no experts: nothing to score.
  EXPECT_TRUE(check->score(c, "Answer.", {}, "f32").empty());
  const Compiler plain = Compiler::open(fixture().softmax);
  EXPECT_TRUE(check->score(plain, normalize_spec(kSpec), spec_examples(kSpec)).empty());
}

TEST(ExpertCheck, TheRouterKeepsItsChoiceUnlessAnotherExpertDoesBetter) {
  const Compiler c = Compiler::open(experts_compiler());
  ExpertCheckOptions o;
  o.nll_margin = 0.5;
  const auto check = ExpertCheck::open(c, fixture().interp, o);
  auto s = [](int64_t answered, double nll) { return ExpertExampleScore{"x", 3, answered, nll}; };
  // More answered wins, whatever the loss.
  EXPECT_EQ(check->choose({s(1, 0.2), s(2, 0.9), s(0, 0.1)}, 0), 1u);
  // Equal counts: a lower loss by more than the margin wins; by less, the router keeps it.
  EXPECT_EQ(check->choose({s(1, 1.0), s(1, 0.4), s(0, 0.1)}, 0), 1u);
  EXPECT_EQ(check->choose({s(1, 1.0), s(1, 0.6), s(0, 0.1)}, 0), 0u);
  // Between challengers that beat the router, the better one.
  EXPECT_EQ(check->choose({s(0, 3.0), s(2, 0.9), s(2, 0.8)}, 0), 2u);
  // Ties keep the router's choice, wherever it sits.
  EXPECT_EQ(check->choose({s(2, 0.5), s(2, 0.5), s(2, 0.5)}, 2), 2u);
  ExpertCheckOptions bad;
  bad.nll_margin = -1;
  EXPECT_THROW(ExpertCheck::open(c, fixture().interp, bad), Error);
  // Another interpreter is refused, naming the file.
  try {
    ExpertCheck::open(c, fixture().other_interp);
    ADD_FAILURE() << "accepted another interpreter";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), fixture().other_interp);
  }
}

TEST(ExpertCheck, CompileUsesTheCheckedExpertsProgram) {
  const Compiler c = Compiler::open(experts_compiler());
  const auto check = ExpertCheck::open(c, fixture().interp);
  CompileOptions o;
  o.expert_check = check.get();
  const CompiledProgram checked = c.compile(kSpec, o);
  const CompiledProgram routed = c.compile(kSpec);
  ASSERT_EQ(checked.example_scores.size(), 3u);
  EXPECT_TRUE(routed.example_scores.empty());
  EXPECT_EQ(routed.expert_chosen_by, "router");
  EXPECT_EQ(routed.expert, routed.experts[0].name);
  size_t router = 0;
  while (c.info().experts[router] != routed.expert) ++router;
  const size_t pick = check->choose(checked.example_scores, router);
  EXPECT_EQ(checked.expert, c.info().experts[pick]);
  if (pick == router) {
    // The check agreed: the router's own program, to the byte.
    EXPECT_EQ(checked.expert_chosen_by, "router");
    EXPECT_EQ(checked.program_id, routed.program_id);
  } else {
    EXPECT_EQ(checked.expert_chosen_by, "examples");
  }
  // Whichever it chose, some expert's forced program is this one when the examples chose it.
  for (size_t e = 0; e < 3; ++e) {
    CompileOptions f;
    f.expert = c.info().experts[e];
    const CompiledProgram forced = c.compile(kSpec, f);
    if (e == pick && checked.expert_chosen_by == "examples") {
      EXPECT_EQ(forced.program_id, checked.program_id);
    }
    if (e != pick) {
      EXPECT_NE(forced.program_id, checked.program_id);
    }
  }
  // Every expert can be forced, and the check then does not run; the routing weights stay.
  for (const std::string& name : c.info().experts) {
    CompileOptions f;
    f.expert = name;
    f.expert_check = check.get();
    const CompiledProgram p = c.compile(kSpec, f);
    EXPECT_EQ(p.expert, name);
    EXPECT_EQ(p.expert_chosen_by, "option");
    EXPECT_TRUE(p.example_scores.empty());
    EXPECT_EQ(p.experts.size(), 3u);
  }
  // A spec without examples: the router alone.
  const CompiledProgram terse = c.compile("Classify the input and answer with one word.", o);
  EXPECT_EQ(terse.expert_chosen_by, "router");
  EXPECT_TRUE(terse.example_scores.empty());
  // A control or non-experts compiler ignores the check.
  EXPECT_TRUE(Compiler::open(fixture().softmax).compile(kSpec, o).expert.empty());
}

TEST(ExpertCheck, AnUnknownExpertIsAClearError) {
  const Compiler c = Compiler::open(experts_compiler());
  CompileOptions o;
  o.expert = "weather";
  try {
    c.compile(kSpec, o);
    ADD_FAILURE() << "accepted an unknown expert";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown expert 'weather'"), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("dates, reviews, logs"), std::string::npos) << e.hint();
  }
  try {
    Compiler::open(fixture().softmax).compile(kSpec, o);
    ADD_FAILURE() << "accepted an expert for a compiler without experts";
  } catch (const Error& e) {
    EXPECT_NE(e.hint().find("no experts"), std::string::npos) << e.hint();
  }
}

}  // namespace
}  // namespace paw::compiler
