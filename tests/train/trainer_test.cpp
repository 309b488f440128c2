// The trainer and its data path: LR schedule (hand-computed values), the prompted format and
// loss mask, batching, recipe validation, and short real runs — the loss goes down, a run
// stopped and resumed equals a straight run bit for bit, checkpoints refuse the wrong recipe,
// and a LoRA run exports an adapter the native runtime attaches.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>

#include "paw/adapter/lora.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/runtime/session.hpp"
#include "paw/tokenizer/bpe_trainer.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/train/dataset.hpp"
#include "paw/train/recipe.hpp"
#include "paw/eval/evaluator.hpp"
#include "paw/util/error.hpp"
#include "common/test_env.hpp"
#include "train/recipe_fixtures.hpp"

namespace paw {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::quiet;
using test::tensors_of;
using test::tiny_recipe;

TEST(TrainSchedule, WarmupThenCosine) {
  train::OptimSettings o;
  o.lr = 1e-3;
  o.min_lr = 1e-4;
  o.warmup_steps = 10;
  EXPECT_DOUBLE_EQ(train::lr_at(o, 0, 110), 1e-4);       // 1e-3 * 1/10
  EXPECT_DOUBLE_EQ(train::lr_at(o, 4, 110), 5e-4);       // 1e-3 * 5/10
  EXPECT_DOUBLE_EQ(train::lr_at(o, 9, 110), 1e-3);
  EXPECT_DOUBLE_EQ(train::lr_at(o, 10, 110), 1e-3);      // cosine at p = 0
  EXPECT_NEAR(train::lr_at(o, 60, 110), 5.5e-4, 1e-15);  // p = 1/2: 1e-4 + 9e-4 * 0.5
  EXPECT_NEAR(train::lr_at(o, 35, 110), 1e-4 + 9e-4 * 0.5 * (1 + std::cos(M_PI / 4)), 1e-15);
  EXPECT_NEAR(train::lr_at(o, 110, 110), 1e-4, 1e-15);
  o.warmup_steps = 0;
  EXPECT_DOUBLE_EQ(train::lr_at(o, 0, 100), 1e-3);
}

// A small BPE with the Qwen chat tokens, trained once per process on generator records.
const Tokenizer& test_tokenizer() {
  static const Tokenizer tok = [] {
    data::GenOptions g;
    g.n_train = 60;
    const data::Generator gen(g);
    BpeTrainOptions bo;
    bo.vocab_size = 400;
    BpeTrainer t(bo);
    for (size_t i = 0; i < 60; ++i) {
      const auto r = gen.record(data::Split::Train, i);
      t.add_text(r.spec);
      t.add_text(r.input);
      t.add_text(r.output);
    }
    const std::string path = test::scratch_dir("train-tok") + "/tok.gguf";
    t.train().write_gguf(path);
    return Tokenizer::load(path);
  }();
  return tok;
}

TEST(TrainData, PromptFormatIsExact) {
  EXPECT_EQ(train::format_prompt("Say yes.", "ok?"),
            "<|im_start|>user\nSay yes.\n[INPUT]\nok?\n[END_INPUT]\n<|im_end|>\n<|im_start|>assistant\n");
}

TEST(TrainData, LossCoversExactlyTheOutputAndImEnd) {
  const Tokenizer& tok = test_tokenizer();
  const train::Example ex = train::encode_example(tok, "Answer yes or no.", "is it <|im_end|> raining", "yes");
  const auto prompt = tok.encode(train::format_prompt("Answer yes or no.", "is it <|im_end|> raining"));
  ASSERT_EQ(ex.n_prompt, static_cast<int64_t>(prompt.size()));
  EXPECT_TRUE(std::equal(prompt.begin(), prompt.end(), ex.tokens.begin()));
  const std::vector<int32_t> target(ex.tokens.begin() + ex.n_prompt, ex.tokens.end());
  EXPECT_EQ(target.back(), *tok.token_id("<|im_end|>"));
  EXPECT_EQ(tok.decode(target), "yes<|im_end|>");
  // Special-token text inside an output is plain text, never a control token.
  const train::Example ex2 = train::encode_example(tok, "s", "i", "<|im_start|>");
  const std::vector<int32_t> t2(ex2.tokens.begin() + ex2.n_prompt, ex2.tokens.end() - 1);
  for (int32_t id : t2) EXPECT_NE(id, *tok.token_id("<|im_start|>"));
}

class FixedSource : public train::ExampleSource {
 public:
  explicit FixedSource(std::vector<train::Triple> v) : v_(std::move(v)) {}
  size_t size() const override { return v_.size(); }
  train::Triple at(size_t i) const override { return v_[i]; }

 private:
  std::vector<train::Triple> v_;
};

TEST(TrainData, PackedBatchesAndCursor) {
  const Tokenizer& tok = test_tokenizer();
  std::vector<train::Triple> v;
  for (int i = 0; i < 7; ++i) v.push_back({"spec " + std::to_string(i), "input " + std::to_string(i), std::to_string(i)});
  v.push_back({std::string(3000, 'x'), "too long", "z"});  // never fits: skipped
  const FixedSource src(v);
  train::BatchOptions bo;
  bo.batch_size = 2;
  bo.seq_len = 128;
  bo.seed = 5;
  train::Batcher b(src, tok, bo);
  const train::HostBatch hb = b.next();
  ASSERT_EQ(hb.rows, 2);
  ASSERT_EQ(hb.tokens.size(), static_cast<size_t>(hb.rows * hb.cols));
  // Every segment is one whole example: its tokens are the example's tokens minus the last,
  // its targets the output tokens (shifted by one), -1 elsewhere.
  int64_t n_targets = 0, n_seen = 0;
  for (int64_t r = 0; r < hb.rows; ++r) {
    int64_t c = 0;
    while (c < hb.cols && hb.segments[r * hb.cols + c] >= 0) {
      const int64_t seg = hb.segments[r * hb.cols + c];
      int64_t len = 0;
      while (c + len < hb.cols && hb.segments[r * hb.cols + c + len] == seg) ++len;
      std::vector<int32_t> in;
      for (int64_t k = 0; k < len; ++k) in.push_back(static_cast<int32_t>(hb.tokens[r * hb.cols + c + k]));
      const std::string text = tok.decode(in);
      ASSERT_EQ(text.rfind("<|im_start|>user\nspec ", 0), 0u) << text;
      const std::string digit = text.substr(22, 1);
      const train::Example ex = train::encode_example(tok, "spec " + digit, "input " + digit, digit);
      ASSERT_EQ(static_cast<int64_t>(ex.tokens.size()) - 1, len);
      for (int64_t k = 0; k < len; ++k) {
        EXPECT_EQ(hb.tokens[r * hb.cols + c + k], ex.tokens[k]);
        const int64_t want = k + 1 >= ex.n_prompt ? ex.tokens[k + 1] : -1;
        EXPECT_EQ(hb.targets[r * hb.cols + c + k], want);
        n_targets += want >= 0;
      }
      ++n_seen;
      c += len;
    }
    for (; c < hb.cols; ++c) EXPECT_EQ(hb.targets[r * hb.cols + c], -1);  // padding
  }
  EXPECT_EQ(n_targets, hb.n_targets);
  EXPECT_EQ(n_seen, hb.n_examples);
  EXPECT_GT(hb.n_examples, 2);  // packing put several examples in a row

  // The cursor is the whole state: seeking back reproduces the batches.
  const uint64_t c1 = b.cursor();
  const train::HostBatch h2 = b.next();
  b.seek(c1);
  EXPECT_EQ(b.next().tokens, h2.tokens);
  // After an epoch the long example has been skipped once.
  for (int i = 0; i < 4; ++i) b.next();
  EXPECT_GE(b.skipped(), 1u);
}

// A tiny recipe (sizes chosen so the whole test takes seconds on 2 cores).
double mean(const std::vector<double>& v, size_t from, size_t n) {
  return std::accumulate(v.begin() + static_cast<long>(from), v.begin() + static_cast<long>(from + n), 0.0) /
         static_cast<double>(n);
}

TEST(TrainRun, LossGoesDownAndTheExportRuns) {
  const std::string dir = test::scratch_dir("train-smoke") + "/run";
  json j = tiny_recipe(dir, 40);
  // Held-out loss on 16 fixed records at steps 5, 10, ..., 40 (less noisy than batch losses).
  j["eval"] = {{"every", 5}, {"n", 16}, {"split", "heldout_params"}};
  const train::RunResult res = train::run_recipe(train::parse_recipe(j), quiet());
  ASSERT_EQ(res.losses.size(), 40u);
  ASSERT_EQ(res.eval_losses.size(), 8u);
  for (double l : res.losses) ASSERT_TRUE(std::isfinite(l));
  // The first loss is near ln(vocab) = ln(305) = 5.7 (an untrained model); training must cut
  // both the training and the held-out loss clearly.
  EXPECT_GT(res.losses.front(), 5.0);
  EXPECT_LT(mean(res.losses, 30, 10), mean(res.losses, 0, 5) - 0.8)
      << "first " << res.losses.front() << " last " << res.losses.back();
  EXPECT_LT(res.eval_losses.back(), res.eval_losses.front() - 0.3)
      << "eval " << res.eval_losses.front() << " -> " << res.eval_losses.back();
  EXPECT_GT(res.tokens_per_s, 0);
  // The JSONL log has one line per step with the documented fields.
  std::ifstream log(dir + "/ckpt/log.jsonl");
  std::string line;
  int n = 0;
  int n_eval = 0;
  while (std::getline(log, line)) {
    const json l = json::parse(line);
    if (l.contains("eval_loss")) {
      EXPECT_EQ(l.at("step").get<int>(), n);
      ++n_eval;
      continue;
    }
    EXPECT_EQ(l.at("step").get<int>(), ++n);
    for (const char* k : {"loss", "lr", "grad_norm", "tokens", "targets", "tok_per_s"}) EXPECT_TRUE(l.contains(k)) << k;
  }
  EXPECT_EQ(n_eval, 8);
  EXPECT_EQ(n, 40);
  // The exported model runs natively with its own tokenizer.
  const auto model = Model::load_gguf(res.exported);
  const Tokenizer tok = Tokenizer::from_gguf(*model->gguf());
  Session s(model);
  s.prefill(tok.encode(train::format_prompt("Say yes.", "ok")));
  EXPECT_EQ(s.logits().size(), static_cast<size_t>(model->hparams().n_vocab));

  // The trainer's greedy exact rate (teacher-forced argmax) is what greedy generation by the
  // native runtime scores on the same held-out cases (paw eval), up to one argmax tie.
  ASSERT_EQ(res.eval_exact.size(), 8u);
  data::GenOptions g = train::parse_recipe(j).data.gen;
  g.n_train = 0;
  const std::vector<data::Split> splits = {data::Split::HeldoutParams};
  const auto cases = eval::generator_cases(g, splits);
  ASSERT_EQ(cases.size(), 16u);
  std::vector<eval::EvalCase> fitting;  // the trainer skips cases longer than seq_len + 1 tokens
  for (const auto& c : cases)
    if (train::encode_example(tok, c.spec, c.input, c.expected).tokens.size() <= 385u) fitting.push_back(c);
  ASSERT_GE(fitting.size(), 8u);
  eval::EvalOptions eo;
  eo.max_tokens = 64;
  eo.session.kv_type = DType::F32;
  const eval::ModelReport rep = eval::evaluate(model, tok, fitting, eo);
  const double n_fit = static_cast<double>(fitting.size());
  EXPECT_NEAR(res.eval_exact.back() * n_fit, static_cast<double>(rep.total.exact), 1.0)
      << "trainer " << res.eval_exact.back() << ", native " << rep.total.exact << "/" << fitting.size();
}

// Mixed precision trains like float: same data and seed, the loss curve of a bf16 run stays
// close to the float run's and falls as much.
TEST(TrainRun, Bf16TrainingTracksF32) {
  const std::string base = test::scratch_dir("train-bf16");
  const train::RunResult f = train::run_recipe(train::parse_recipe(tiny_recipe(base + "/f32", 30)), quiet());
  json j = tiny_recipe(base + "/bf16", 30);
  j["precision"] = "bf16";
  const train::RunResult b = train::run_recipe(train::parse_recipe(j), quiet());
  ASSERT_EQ(f.losses.size(), 30u);
  ASSERT_EQ(b.losses.size(), 30u);
  EXPECT_NEAR(b.losses.front(), f.losses.front(), 0.01) << "same initial model and batch";  // measured 6e-5
  EXPECT_LT(mean(b.losses, 20, 10), mean(b.losses, 0, 5) - 0.8);
  EXPECT_NEAR(mean(b.losses, 20, 10), mean(f.losses, 20, 10), 0.05)  // measured 6e-4
      << "bf16 " << mean(b.losses, 20, 10) << " f32 " << mean(f.losses, 20, 10);
}

TEST(TrainRun, StopAndResumeEqualsStraightRun) {
  const std::string base = test::scratch_dir("train-resume");
  const train::Recipe straight = train::parse_recipe(tiny_recipe(base + "/a", 6));
  const train::RunResult ra = train::run_recipe(straight, quiet());

  const train::Recipe split = train::parse_recipe(tiny_recipe(base + "/b", 6));
  const train::RunResult rb1 = train::run_recipe(split, quiet(/*max_steps=*/3));
  EXPECT_EQ(rb1.last_step, 3);
  // Without --resume an existing checkpoint is never overwritten.
  EXPECT_THROW(train::run_recipe(split, quiet()), Error);
  const train::RunResult rb2 = train::run_recipe(split, quiet(-1, /*resume=*/true));
  EXPECT_EQ(rb2.first_step, 3);
  EXPECT_EQ(rb2.last_step, 6);
  ASSERT_EQ(rb2.losses.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(rb1.losses[i], ra.losses[i]) << "step " << i + 1;
    EXPECT_EQ(rb2.losses[i], ra.losses[i + 3]) << "step " << i + 4;
  }
  const auto wa = tensors_of(ra.exported), wb = tensors_of(rb2.exported);
  ASSERT_EQ(wa.size(), wb.size());
  for (size_t i = 0; i < wa.size(); ++i) EXPECT_EQ(wa[i], wb[i]) << "tensor #" << i;

  // A recipe with another model shape must not resume this checkpoint.
  json other = tiny_recipe(base + "/b", 6);
  other["model"]["n_embd"] = 48;
  other["model"]["head_dim"] = 24;
  try {
    train::run_recipe(train::parse_recipe(other), quiet(-1, true));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("different model"), std::string::npos) << e.what();
  }
}

TEST(TrainRun, LoraOnAFrozenBaseExportsANativeAdapter) {
  const std::string dir = test::scratch_dir("train-lora-run");
  // A base model exported by a 2-step full run.
  const train::RunResult base = train::run_recipe(train::parse_recipe(tiny_recipe(dir + "/base", 2)), quiet());
  json j = tiny_recipe(dir + "/lora", 3);
  j["mode"] = "lora";
  j["model"] = {{"init", base.exported}};
  j["lora"] = {{"rank", 4}, {"alpha", 8.0}, {"targets", {"q", "v", "down"}}};
  j["export"] = {{"path", dir + "/adapter.gguf"}, {"type", "f32"}};
  const train::RunResult res = train::run_recipe(train::parse_recipe(j), quiet());
  EXPECT_EQ(res.n_params, 2 * (4 * 32 + 32 * 4) + 2 * (4 * 32 + 16 * 4) + 2 * (4 * 64 + 32 * 4));
  const auto adapter = LoraAdapter::load_gguf(res.exported);
  EXPECT_EQ(adapter->pairs().size(), 6u);
  Session s(Model::load_gguf(base.exported));
  s.attach(adapter);  // validates names and shapes against the native model
}

TEST(TrainData, LossOnPromptTargetsEveryNextTokenOfAnExample) {
  const Tokenizer& tok = test_tokenizer();
  std::vector<train::Triple> v;
  for (int i = 0; i < 4; ++i) v.push_back({"spec " + std::to_string(i), "input " + std::to_string(i), std::to_string(i)});
  const FixedSource src(v);
  train::BatchOptions bo;
  bo.batch_size = 1;
  bo.seq_len = 512;
  bo.shuffle = false;
  bo.wrap = false;
  bo.loss_on_prompt = true;
  train::Batcher b(src, tok, bo);
  const train::HostBatch hb = b.next();
  ASSERT_EQ(hb.rows, 1);
  // Every input position predicts the next token of its own example; the last token of an
  // example is never an input, so no target crosses into the next example.
  int64_t c = 0;
  for (const train::Triple& t : v) {
    const train::Example ex = train::encode_example(tok, t.spec, t.input, t.output);
    for (size_t k = 0; k + 1 < ex.tokens.size(); ++k, ++c) {
      ASSERT_EQ(hb.tokens[c], ex.tokens[k]);
      EXPECT_EQ(hb.targets[c], ex.tokens[k + 1]);
    }
  }
  EXPECT_EQ(c, hb.cols);
  EXPECT_EQ(hb.n_targets, hb.n_tokens);

  json j = tiny_recipe("/tmp/x", 5);
  j["batch"]["loss"] = "everything";
  EXPECT_THROW(train::parse_recipe(j), Error);
  j["batch"]["loss"] = "all";
  EXPECT_EQ(train::parse_recipe(j).batch.loss, "all");
}

TEST(TrainRecipe, ErrorsNameTheKey) {
  json j = tiny_recipe("/tmp/x", 5);
  j["batch"]["gradaccum"] = 2;
  try {
    train::parse_recipe(j, "r.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gradaccum"), std::string::npos) << e.what();
  }
  j = tiny_recipe("/tmp/x", 5);
  j["optim"]["lr"] = "fast";
  EXPECT_THROW(train::parse_recipe(j), Error);
  j = tiny_recipe("/tmp/x", 5);
  j["mode"] = "lora";  // no model.init
  EXPECT_THROW(train::parse_recipe(j), Error);
  j = tiny_recipe("/tmp/x", 5);
  j.erase("data");
  EXPECT_THROW(train::parse_recipe(j), Error);
  j = tiny_recipe("/tmp/x", 5);
  j["precision"] = "fp8";
  try {
    train::parse_recipe(j, "r.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("precision"), std::string::npos) << e.what();
  }
  j["precision"] = "bf16";
  EXPECT_EQ(train::parse_recipe(j).precision, "bf16");
}

TEST(TrainRecipe, ShippedRecipesParse) {
  for (const char* name : {"S", "L"}) {
    const train::Recipe r = train::load_recipe(test::source_dir() + "/train/recipes/" + name + ".json");
    EXPECT_EQ(r.name, name);
    EXPECT_EQ(r.mode, "full");
  }
}

TEST(TrainRun, CudaWithoutCudaIsAClearError) {
  const std::string dir = test::scratch_dir("train-cuda") + "/run";
  train::RunOptions o = quiet();
  o.device = "cuda";
  try {
    train::run_recipe(train::parse_recipe(tiny_recipe(dir, 1)), o);
    SUCCEED() << "CUDA is available here";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CUDA"), std::string::npos) << e.what();
  }
  o.device = "tpu";
  EXPECT_THROW(train::run_recipe(train::parse_recipe(tiny_recipe(dir, 1)), o), Error);
}

}  // namespace
}  // namespace paw
