// generate(): greedy ids against the independent numpy reference's greedy continuation, and
// the stopping rules (stop ids, token budget, context limit, callback) derived from it.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "common/model_test_util.hpp"
#include "paw/runtime/generate.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

using test::fixture;
using test::reference;
using test::sample_tokens;

struct GenFixture {
  std::string path;
  std::shared_ptr<const Model> model;
  std::vector<int32_t> prompt;
  std::vector<int32_t> greedy;  // reference greedy continuation (12 tokens)
};

// F32 weights and an F32 cache: the active kernels match the float64 reference to ~1e-5, so
// greedy ids agree with it exactly.
const GenFixture& setup() {
  static GenFixture s = [] {
    GenFixture r;
    r.path = fixture("model --arch qwen3 --preset tiny --type f32 --seed 71");
    r.model = Model::load(r.path);
    r.prompt = sample_tokens(6, static_cast<int32_t>(r.model->hparams().n_vocab), 72);
    test::RefArgs ra;
    ra.greedy = 12;
    r.greedy = reference(r.path, r.prompt, ra).greedy;
    return r;
  }();
  return s;
}

SessionOptions opts(int64_t n_ctx = 64) {
  SessionOptions o;
  o.n_ctx = n_ctx;
  o.kv_type = DType::F32;
  o.n_threads = 2;
  return o;
}

TEST(Generate, GreedyMatchesReferenceAndStopsAtMaxTokens) {
  const GenFixture& st = setup();
  ASSERT_EQ(st.greedy.size(), 12u);
  Session s(st.model, opts());
  GenerateOptions go;
  go.max_tokens = 12;
  std::vector<int32_t> seen;
  go.on_token = [&](int32_t t) {
    seen.push_back(t);
    return true;
  };
  const auto r = generate(s, st.prompt, go);
  EXPECT_EQ(r.ids, st.greedy);
  EXPECT_EQ(seen, st.greedy);
  EXPECT_EQ(r.reason, StopReason::MaxTokens);
  EXPECT_EQ(r.stop_token, -1);
  // The last emitted token is not evaluated.
  EXPECT_EQ(s.n_past(), static_cast<int64_t>(st.prompt.size() + 11));
  auto sorted = st.greedy;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_GE(std::unique(sorted.begin(), sorted.end()) - sorted.begin(), 3) << "continuation is degenerate";
}

TEST(Generate, StopsOnStopIdWithoutEmittingIt) {
  const GenFixture& st = setup();
  // Stop on the 4th greedy token: the output is everything before its first occurrence.
  const int32_t stop = st.greedy[3];
  const auto first = std::find(st.greedy.begin(), st.greedy.end(), stop);
  const std::vector<int32_t> want(st.greedy.begin(), first);
  Session s(st.model, opts());
  GenerateOptions go;
  go.max_tokens = 12;
  go.stop_ids = {999999, stop};
  const auto r = generate(s, st.prompt, go);
  EXPECT_EQ(r.ids, want);
  EXPECT_EQ(r.reason, StopReason::StopToken);
  EXPECT_EQ(r.stop_token, stop);
}

TEST(Generate, StopsWhenTheContextIsFull) {
  const GenFixture& st = setup();
  const auto P = static_cast<int64_t>(st.prompt.size());
  Session s(st.model, opts(P + 5));
  GenerateOptions go;  // no budget: only the context stops it
  const auto r = generate(s, st.prompt, go);
  EXPECT_EQ(r.reason, StopReason::ContextFull);
  // prompt + generated = n_ctx
  EXPECT_EQ(r.ids, std::vector<int32_t>(st.greedy.begin(), st.greedy.begin() + 5));
  EXPECT_EQ(s.n_past(), P + 4);
  // A full session generates nothing more.
  Session full(st.model, opts(P));
  const auto r2 = generate(full, st.prompt, go);
  EXPECT_TRUE(r2.ids.empty());
  EXPECT_EQ(r2.reason, StopReason::ContextFull);
}

TEST(Generate, PromptLongerThanContextFailsBeforeEvaluating) {
  const GenFixture& st = setup();
  Session s(st.model, opts(4));
  GenerateOptions go;
  EXPECT_THROW(generate(s, st.prompt, go), Error);
  EXPECT_EQ(s.n_past(), 0);
}

TEST(Generate, CallbackCanStop) {
  const GenFixture& st = setup();
  Session s(st.model, opts());
  GenerateOptions go;
  int calls = 0;
  go.on_token = [&](int32_t) { return ++calls < 2; };
  const auto r = generate(s, st.prompt, go);
  EXPECT_EQ(r.reason, StopReason::Callback);
  EXPECT_EQ(r.ids, std::vector<int32_t>(st.greedy.begin(), st.greedy.begin() + 2));
}

TEST(Generate, ZeroBudgetAndContinuationFromSessionLogits) {
  const GenFixture& st = setup();
  Session s(st.model, opts());
  GenerateOptions go;
  go.max_tokens = 0;
  auto r = generate(s, st.prompt, go);
  EXPECT_TRUE(r.ids.empty());
  EXPECT_EQ(r.reason, StopReason::MaxTokens);
  EXPECT_EQ(s.n_past(), static_cast<int64_t>(st.prompt.size()));
  // An empty prompt continues from the logits the session already has.
  go.max_tokens = 4;
  r = generate(s, {}, go);
  EXPECT_EQ(r.ids, std::vector<int32_t>(st.greedy.begin(), st.greedy.begin() + 4));
  // ... and fails when there are none.
  Session fresh(st.model, opts());
  EXPECT_THROW(generate(fresh, {}, go), Error);
}

TEST(Generate, SeededSamplingIsReproducibleAndTopK1IsGreedy) {
  const GenFixture& st = setup();
  GenerateOptions go;
  go.max_tokens = 10;
  go.sampling.temperature = 1.5f;
  go.sampling.seed = 5;
  Session a(st.model, opts()), b(st.model, opts());
  const auto ra = generate(a, st.prompt, go);
  const auto rb = generate(b, st.prompt, go);
  EXPECT_EQ(ra.ids, rb.ids);
  go.sampling.top_k = 1;
  Session c(st.model, opts());
  EXPECT_EQ(generate(c, st.prompt, go).ids, std::vector<int32_t>(st.greedy.begin(), st.greedy.begin() + 10));
  go.sampling.temperature = -1.0f;
  Session d(st.model, opts());
  EXPECT_THROW(generate(d, st.prompt, go), Error);
  EXPECT_EQ(d.n_past(), 0) << "invalid options must fail before evaluating";
}

}  // namespace
}  // namespace paw
