// Curriculum recipes (Recipe::stages): how a stage is merged over its recipe, the errors that
// name the stage, and runs — a staged run equals the separate runs it stands for (the second
// started from the first's export), bit for bit, and stopping inside a stage then resuming
// finishes with the same weights.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "paw/train/recipe.hpp"
#include "paw/util/error.hpp"
#include "common/test_env.hpp"
#include "train/recipe_fixtures.hpp"

namespace paw {
namespace {

using nlohmann::json;
using test::quiet;
using test::tensors_of;
using test::tiny_recipe;

// The tiny recipe with a copy stage (echo records only) before the recipe's own data.
json staged_recipe(const std::string& dir, int copy_steps, int mix_steps) {
  json j = tiny_recipe(dir, mix_steps);
  j["stages"] = json::array({
      {{"name", "copy"}, {"steps", copy_steps}, {"data", {{"families", {"echo"}}, {"n_train", 80}}}},
      {{"name", "mix"}},
  });
  return j;
}

TEST(TrainStages, EachStageIsTheRecipeWithItsKeysMergedOver) {
  const train::Recipe r = train::parse_recipe(staged_recipe("/tmp/x", 4, 9));
  ASSERT_EQ(r.stages.size(), 2u);
  const train::Recipe& copy = r.stages[0];
  const train::Recipe& mix = r.stages[1];
  EXPECT_EQ(copy.stage_name, "copy");
  EXPECT_EQ(copy.name, "tiny/copy");
  EXPECT_EQ(copy.steps, 4);
  EXPECT_EQ(copy.data.gen.families, std::vector<std::string>{"echo"});
  EXPECT_EQ(copy.data.gen.n_train, 80u);
  EXPECT_EQ(copy.data.gen.seed, 7u);                 // merged, not replaced: the rest of "data" stays
  EXPECT_EQ(copy.data.gen.max_spec_chars, 500u);
  EXPECT_EQ(copy.checkpoint_dir, "/tmp/x/ckpt/copy");
  EXPECT_EQ(copy.log_path, "/tmp/x/ckpt/copy/log.jsonl");
  EXPECT_EQ(copy.exp.path, "/tmp/x/ckpt/copy/copy.gguf");  // an F32 hand-over to the next stage
  EXPECT_EQ(copy.exp.type, "f32");
  EXPECT_TRUE(copy.model.init.empty());
  EXPECT_EQ(copy.model.n_embd, 32);

  EXPECT_EQ(mix.steps, 9);
  EXPECT_EQ(mix.data.gen.families, (std::vector<std::string>{"yes_no", "sentiment", "case_format"}));
  EXPECT_EQ(mix.data.gen.n_train, 200u);
  EXPECT_EQ(mix.model.init, copy.exp.path);
  EXPECT_EQ(mix.exp.path, "/tmp/x/model.gguf");      // the recipe's export
  EXPECT_EQ(mix.checkpoint_dir, "/tmp/x/ckpt/mix");
  EXPECT_TRUE(copy.stages.empty());
  EXPECT_TRUE(mix.stages.empty());
  EXPECT_TRUE(train::parse_recipe(tiny_recipe("/tmp/x", 3)).stages.empty());

  // A stage's export keys merge over the hand-over default, not over the recipe's export.
  json j = staged_recipe("/tmp/x", 4, 9);
  j["stages"][0]["export"] = {{"type", "f16"}};
  const train::Recipe f16 = train::parse_recipe(j);
  EXPECT_EQ(f16.stages[0].exp.path, "/tmp/x/ckpt/copy/copy.gguf");
  EXPECT_EQ(f16.stages[0].exp.type, "f16");
  EXPECT_EQ(f16.stages[1].model.init, "/tmp/x/ckpt/copy/copy.gguf");
}

TEST(TrainStages, ErrorsNameTheStage) {
  auto error_of = [](const json& j) -> std::string {
    try {
      train::parse_recipe(j);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  auto with_stages = [](json stages) {
    json j = tiny_recipe("/tmp/x", 3);
    j["stages"] = std::move(stages);
    return j;
  };
  const auto has = [](const std::string& msg, const std::string& part) { return msg.find(part) != std::string::npos; };

  std::string m = error_of(with_stages(json::array()));
  EXPECT_TRUE(has(m, "stages")) << m;
  m = error_of(with_stages(json::array({{{"steps", 2}}})));
  EXPECT_TRUE(has(m, "stages[0]") && has(m, "name")) << m;
  m = error_of(with_stages(json::array({{{"name", "a/b"}}})));
  EXPECT_TRUE(has(m, "stages[0]")) << m;
  m = error_of(with_stages(json::array({{{"name", "a"}}, {{"name", "a"}}})));
  EXPECT_TRUE(has(m, "stages[1]") && has(m, "'a'")) << m;
  m = error_of(with_stages(json::array({{{"name", "a"}, {"stpes", 2}}})));
  EXPECT_TRUE(has(m, "stages[0] (a)") && has(m, "stpes")) << m;
  m = error_of(with_stages(json::array({{{"name", "a"}, {"data", {{"n_trian", 5}}}}})));
  EXPECT_TRUE(has(m, "stages[0] (a): data") && has(m, "n_trian")) << m;
  m = error_of(with_stages(json::array({{{"name", "a"}, {"tokenizer", {{"path", "t.gguf"}}}}})));
  EXPECT_TRUE(has(m, "stages[0]: tokenizer")) << m;
  m = error_of(with_stages(json::array({{{"name", "a"}}, {{"name", "b"}, {"model", {{"init", "m.gguf"}}}}})));
  EXPECT_TRUE(has(m, "stages[1]: model.init")) << m;
  m = error_of(with_stages(json::array({{{"name", "a"}}, {{"name", "b"}, {"model", 5}}})));
  EXPECT_TRUE(has(m, "stages[1]: model") && has(m, "object")) << m;
  m = error_of(with_stages(json::array({{{"name", "a"}, {"export", {{"path", ""}}}}, {{"name", "b"}}})));
  EXPECT_TRUE(has(m, "stages[0]: export.path")) << m;
  json lora = with_stages(json::array({{{"name", "a"}}}));
  lora["mode"] = "lora";
  lora["model"] = {{"init", "base.gguf"}};
  m = error_of(lora);
  EXPECT_TRUE(has(m, "stages") && has(m, "full")) << m;
}

TEST(TrainStages, AStagedRunEqualsTheRunsItStandsFor) {
  const std::string dir = test::scratch_dir("train-stages");
  // The staged run first: it trains the shared tokenizer on the recipe's (mix) data.
  const train::RunResult staged = train::run_recipe(train::parse_recipe(staged_recipe(dir + "/staged", 3, 3)), quiet());
  EXPECT_EQ(staged.first_step, 0);
  EXPECT_EQ(staged.last_step, 6);
  ASSERT_EQ(staged.losses.size(), 6u);

  // The same curriculum as two plain recipes: echo data, then the mix from its F32 export.
  json a = tiny_recipe(dir + "/a", 3);
  a["data"]["families"] = {"echo"};
  a["data"]["n_train"] = 80;
  const train::RunResult ra = train::run_recipe(train::parse_recipe(a), quiet());
  json b = tiny_recipe(dir + "/b", 3);
  b["model"] = {{"init", ra.exported}};
  const train::RunResult rb = train::run_recipe(train::parse_recipe(b), quiet());

  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(staged.losses[i], ra.losses[i]) << "copy step " << i + 1;
    EXPECT_EQ(staged.losses[i + 3], rb.losses[i]) << "mix step " << i + 1;
  }
  // The echo stage really trained on other data than the mix.
  EXPECT_NE(ra.losses[0], rb.losses[0]);
  const auto ws = tensors_of(staged.exported), wb = tensors_of(rb.exported);
  ASSERT_EQ(ws.size(), wb.size());
  for (size_t i = 0; i < ws.size(); ++i) EXPECT_EQ(ws[i], wb[i]) << "tensor #" << i;

  // Stopped inside the second stage, then resumed: the same final weights.
  const train::Recipe again = train::parse_recipe(staged_recipe(dir + "/again", 3, 3));
  const train::RunResult first = train::run_recipe(again, quiet(/*max_steps=*/4));
  EXPECT_EQ(first.last_step, 4);
  EXPECT_EQ(first.losses.size(), 4u);
  EXPECT_THROW(train::run_recipe(again, quiet()), Error);  // checkpoints exist: --resume is needed
  const train::RunResult rest = train::run_recipe(again, quiet(-1, /*resume=*/true));
  EXPECT_EQ(rest.first_step, 4);
  EXPECT_EQ(rest.last_step, 6);
  ASSERT_EQ(rest.losses.size(), 2u);
  EXPECT_EQ(rest.losses[0], staged.losses[4]);
  EXPECT_EQ(rest.losses[1], staged.losses[5]);
  const auto wr = tensors_of(rest.exported);
  ASSERT_EQ(wr.size(), ws.size());
  for (size_t i = 0; i < ws.size(); ++i) EXPECT_EQ(wr[i], ws[i]) << "tensor #" << i;
}

}  // namespace
}  // namespace paw
