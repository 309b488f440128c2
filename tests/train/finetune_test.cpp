// Finetune compile: the spec's worked examples, the examples file and its errors, a training
// run that lowers the answer loss, determinism for a seed, the bundle it makes (compiler_kind
// finetune_lora, runs through paw::Program), and clear errors.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "paw/compiler/compiler.hpp"
#include "paw/interpreter.hpp"
#include "paw/program/program_bundle.hpp"
#include "paw/run.hpp"
#include "paw/train/finetune.hpp"
#include "paw/util/error.hpp"
#include "train_test_util.hpp"

namespace paw::test {
namespace {

const char* kSpec =
    "Answer yes if the input mentions a colour, else no.\n\nExamples:\nInput: a red car\nOutput: yes\n\n"
    "Input: a fast car\nOutput: no\n\nInput: blue sky\nOutput: yes\n";

TEST(Finetune, SpecExamplesAreTheInputOutputPairs) {
  auto ex = train::spec_examples(kSpec);
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_EQ(ex[0].input, "a red car");
  EXPECT_EQ(ex[0].output, "yes");
  EXPECT_EQ(ex[2].input, "blue sky");
  // Multi-line inputs and outputs, CRLF, an Output: with no Input: before it, empty parts.
  ex = train::spec_examples("Fix it.\r\nOutput: stray\r\nInput: {\"a\": 1,\r\n \"b\": 2\r\nOutput: {\"a\": 1,\r\n \"b\": 2}\r\n\r\n"
                            "Input:\nOutput: nothing in\nInput: x\nOutput:\n");
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].input, "{\"a\": 1,\n \"b\": 2");
  EXPECT_EQ(ex[0].output, "{\"a\": 1,\n \"b\": 2}");
  EXPECT_TRUE(train::spec_examples("No examples here.").empty());
}

TEST(Finetune, ExamplesFileErrorsNameTheLine) {
  const std::string dir = scratch_dir("finetune_examples");
  std::ofstream(dir + "/ok.jsonl") << "{\"input\": \"a\", \"output\": \"b\"}\n\n{\"input\": \"c\", \"expected\": \"d\"}\n";
  const auto ok = train::read_examples_jsonl(dir + "/ok.jsonl");
  ASSERT_EQ(ok.size(), 2u);
  EXPECT_EQ(ok[1].output, "d");
  struct Bad {
    std::string text, needle;
  } bad[] = {{"{\"input\": \"a\", \"output\": \"b\"}\n{oops\n", ":2"},
             {"[1]\n", "not a JSON object"},
             {"{\"input\": \"a\"}\n", "\"output\""},
             {"{\"input\": 3, \"output\": \"b\"}\n", "\"input\""}};
  for (const Bad& b : bad) {
    std::ofstream(dir + "/bad.jsonl") << b.text;
    try {
      train::read_examples_jsonl(dir + "/bad.jsonl");
      ADD_FAILURE() << "no error for " << b.text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(b.needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("bad.jsonl"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(train::read_examples_jsonl(dir + "/missing.jsonl"), Error);
}

struct Fx {
  std::string interp, other, compiler;
};
const Fx& fx() {
  static const Fx f = [] {
    Fx x;
    x.interp = train_fixture("model --arch qwen3 --preset tiny --seed 1");
    x.other = train_fixture("model --arch qwen3 --preset tiny --seed 9");
    const std::string enc = train_fixture("model --arch qwen3 --preset tiny --seed 2");
    x.compiler = train_fixture("compiler --encoder " + enc + " --interpreter " + x.interp +
                               " --prefix-tokens 4 --n-bases 2 --rank 32 --seed 3");
    return x;
  }();
  return f;
}

TEST(Finetune, LowersTheLossDeterministicallyAndMakesARunnableProgram) {
  const compiler::Compiler c = compiler::Compiler::open(fx().compiler);
  train::FinetuneOptions o;
  o.steps = 12;
  o.batch = 4;
  o.lr = 1e-2;
  o.threads = 1;
  const std::vector<train::FinetuneExample> extra = {{"green grass", "yes"}, {"a loud noise", "no"}};
  const train::FinetuneResult a = train::finetune_compile(c, fx().interp, kSpec, extra, o);
  EXPECT_EQ(a.n_examples, 5u);
  ASSERT_EQ(a.losses.size(), 12u);
  EXPECT_LT(a.final_loss, a.first_loss * 0.8) << a.first_loss << " -> " << a.final_loss;
  const nlohmann::json meta = a.program.bundle.meta.json;
  EXPECT_EQ(meta["compiler_kind"], "finetune_lora");
  EXPECT_EQ(meta["finetune"]["steps"], 12);
  EXPECT_EQ(meta["finetune"]["examples"], 5);
  EXPECT_EQ(meta["finetune"]["init"], "mapper");
  EXPECT_EQ(meta["spec"], kSpec);
  // The mapper's program is a different program (same template, another adapter).
  const compiler::CompiledProgram mapper = c.compile(kSpec);
  EXPECT_NE(a.program.program_id, mapper.program_id);
  EXPECT_EQ(a.program.bundle.prompt_template, mapper.bundle.prompt_template);

  const train::FinetuneResult b = train::finetune_compile(c, fx().interp, kSpec, extra, o);
  EXPECT_EQ(a.program.program_id, b.program.program_id);
  EXPECT_EQ(a.losses, b.losses);
  o.seed = 2;
  EXPECT_NE(train::finetune_compile(c, fx().interp, kSpec, extra, o).program.program_id, a.program.program_id);

  // It runs like any program.
  ProgramOptions po;
  po.prefix_cache = false;
  po.import_into_cache = false;
  po.log = [](std::string_view, std::string_view) {};
  const Interpreter interp = Interpreter::open(fx().interp);
  const Program p = Program::open(ProgramBundle::from_bundle(a.program.bundle), interp, po);
  RunOptions ro;
  ro.max_tokens = 3;
  EXPECT_NO_THROW(p.run("red paint", ro));
  EXPECT_EQ(p.id(), a.program.program_id);
}

// Auto steps and rate: the cautious setting for a few examples, the measured one for many.
TEST(Finetune, AutoStepsAndRateFollowTheNumberOfExamples) {
  const compiler::Compiler c = compiler::Compiler::open(fx().compiler);
  train::FinetuneOptions o;
  o.threads = 1;
  const train::FinetuneResult few = train::finetune_compile(c, fx().interp, kSpec, {}, o);
  EXPECT_EQ(few.n_examples, 3u);
  EXPECT_EQ(few.steps, 40);
  EXPECT_DOUBLE_EQ(few.lr, 5e-4);
  EXPECT_EQ(few.losses.size(), 40u);
  EXPECT_EQ(few.program.bundle.meta.json["finetune"]["steps"], 40);
  EXPECT_DOUBLE_EQ(few.program.bundle.meta.json["finetune"]["lr"].get<double>(), 5e-4);
  std::vector<train::FinetuneExample> extra;
  for (int i = 0; i < 13; ++i) extra.push_back({"sample " + std::to_string(i), i % 2 ? "yes" : "no"});
  const train::FinetuneResult many = train::finetune_compile(c, fx().interp, kSpec, extra, o);
  EXPECT_EQ(many.n_examples, 16u);
  EXPECT_EQ(many.steps, 120);
  EXPECT_DOUBLE_EQ(many.lr, 1e-3);
  EXPECT_EQ(many.losses.size(), 120u);
  // Explicit values win.
  o.steps = 5;
  o.lr = 2e-3;
  const train::FinetuneResult set = train::finetune_compile(c, fx().interp, kSpec, extra, o);
  EXPECT_EQ(set.steps, 5);
  EXPECT_DOUBLE_EQ(set.lr, 2e-3);
  EXPECT_EQ(set.losses.size(), 5u);
  o.steps = -2;
  EXPECT_THROW(train::finetune_compile(c, fx().interp, kSpec, extra, o), Error);
}

// With at most `batch` examples every step sees them all, so a step's loss is the examples' loss;
// stop_loss ends the run at the first step whose loss is at or below it, before that step trains.
TEST(Finetune, StopLossKeepsAProgramThatFitsItsExamples) {
  const compiler::Compiler c = compiler::Compiler::open(fx().compiler);
  train::FinetuneOptions o;
  o.threads = 1;
  o.steps = 12;
  o.lr = 1e-2;
  o.stop_loss = 0;
  const train::FinetuneResult full = train::finetune_compile(c, fx().interp, kSpec, {}, o);
  ASSERT_EQ(full.steps_run, 12);
  ASSERT_EQ(full.losses.size(), 12u);
  // Full batch: the first step's loss is the mean loss over all examples before training.
  EXPECT_NEAR(full.losses.front(), full.first_loss, 0.02 * full.first_loss);
  EXPECT_LT(full.losses.back(), full.losses.front());

  // A threshold the run crosses: it stops at the first step at or below it.
  o.stop_loss = full.losses[6];
  const train::FinetuneResult part = train::finetune_compile(c, fx().interp, kSpec, {}, o);
  int64_t expect = 0;
  while (full.losses[static_cast<size_t>(expect)] > o.stop_loss) ++expect;
  EXPECT_EQ(part.steps_run, expect);
  EXPECT_EQ(part.steps, 12);
  EXPECT_EQ(part.losses, std::vector<double>(full.losses.begin(), full.losses.begin() + expect));
  EXPECT_EQ(part.program.bundle.meta.json["finetune"]["steps"], expect);
  EXPECT_EQ(part.program.bundle.meta.json["finetune"]["planned_steps"], 12);

  // A program that already fits: no step runs and the adapter is the mapper's.
  o.stop_loss = 1e9;
  const train::FinetuneResult kept = train::finetune_compile(c, fx().interp, kSpec, {}, o);
  EXPECT_EQ(kept.steps_run, 0);
  EXPECT_TRUE(kept.losses.empty());
  EXPECT_EQ(kept.program.bundle.adapter, c.compile(kSpec).bundle.adapter);
}

TEST(Finetune, ClearErrors) {
  const compiler::Compiler c = compiler::Compiler::open(fx().compiler);
  train::FinetuneOptions o;
  o.steps = 1;
  try {
    train::finetune_compile(c, fx().interp, "Answer yes or no.", {}, o);
    ADD_FAILURE() << "no error without examples";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no examples"), std::string::npos) << e.what();
  }
  // Examples whose program prompt (which holds the whole spec) exceeds the limit: the error
  // gives the limit and the shortest length, and points at the spec.
  o.max_tokens = 8;
  try {
    train::finetune_compile(c, fx().interp, kSpec, {}, o);
    ADD_FAILURE() << "no error for examples over the limit";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("longer than 8 tokens"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.hint()).find("shorten the spec"), std::string::npos) << e.hint();
  }
  o.max_tokens = 0;  // the default: the interpreter's context
  EXPECT_THROW(train::finetune_compile(c, fx().other, kSpec, {}, o), Error);   // not the compiler's interpreter
  EXPECT_THROW(train::finetune_compile(c, fx().interp, "   ", {}, o), Error);   // empty spec
}

}  // namespace
}  // namespace paw::test
