// paw::BatchRunner: calls of two programs from many threads, decoded together, give the
// reference runtime's outputs (tests/reference/run_fixture.py) and Program::run's; streaming
// runs on the caller's thread; cancellation, errors and shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "paw/batch.hpp"
#include "paw/paw.hpp"
#include "common/run_fixture.hpp"
#include "common/test_env.hpp"

namespace {

using nlohmann::json;
using paw::test::run_fixture;

struct Case {
  paw::Program prog;
  json want;
};

paw::Interpreter open_interp(const std::string& cache, const std::string& kernels) {
  paw::InterpreterOptions io;
  io.cache_dir = cache;
  io.kernels = kernels;
  io.n_threads = 2;
  return paw::Interpreter::open(run_fixture().model(), io);
}

std::vector<Case> all_cases(const paw::Interpreter& interp, const std::string& cache) {
  const auto& fx = run_fixture();
  paw::ProgramOptions po;
  po.cache_dir = cache;
  po.log = [](std::string_view, std::string_view) {};
  std::vector<Case> cases;
  for (const std::string name : {"a", "b"}) {
    const auto prog = paw::Program::open(fx.program_dir(name), interp, po);
    for (const json& c : fx.program(name)["cases"]) cases.push_back({prog, c});
  }
  return cases;
}

// Every case from its own thread at once, through one runner; returns the results in case order.
std::vector<paw::RunResult> run_concurrently(paw::BatchRunner& batch, const std::vector<Case>& cases, const paw::RunOptions& ro) {
  std::vector<paw::RunResult> got(cases.size());
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < cases.size(); ++i)
    threads.emplace_back([&, i] {
      ++ready;
      while (ready.load() < static_cast<int>(cases.size())) std::this_thread::yield();   // start together
      got[i] = batch.run(cases[i].prog, cases[i].want["input"].get<std::string>(), ro);
    });
  for (auto& t : threads) t.join();
  return got;
}

TEST(BatchRunner, ConcurrentCallsOfTwoProgramsMatchTheReference) {
  const std::string cache = paw::test::scratch_dir("run-batch-ref");
  auto interp = open_interp(cache, "scalar");   // the scalar table matches the reference exactly
  const auto cases = all_cases(interp, cache);
  paw::BatchRunner batch(interp, {.max_batch = 4});
  paw::RunOptions ro;
  ro.max_tokens = run_fixture().max_tokens();
  const auto got = run_concurrently(batch, cases, ro);
  for (size_t i = 0; i < cases.size(); ++i) {
    const json& c = cases[i].want;
    EXPECT_EQ(got[i].ids, c["ids"].get<std::vector<int32_t>>()) << "case " << i << " '" << c["input"] << "'";
    EXPECT_EQ(got[i].output, c["output"].get<std::string>()) << "case " << i;
    EXPECT_EQ(got[i].prefix_tokens, c["prefix_tokens"].get<int64_t>()) << "case " << i;
    EXPECT_EQ(got[i].input_tokens, c["input_tokens"].get<int64_t>()) << "case " << i;
    EXPECT_EQ(got[i].stopped_at_eos, c["stopped_at_eos"].get<bool>()) << "case " << i;
  }
  const paw::BatchStats st = batch.stats();
  EXPECT_EQ(st.calls, cases.size());
  EXPECT_GE(st.max_rows, 2) << "no step decoded two calls together";
  EXPECT_LE(st.max_rows, 4);
}

TEST(BatchRunner, GreedyAndSampledCallsEqualProgramRun) {
  const std::string cache = paw::test::scratch_dir("run-batch-serial");
  auto interp = open_interp(cache, "");   // the best table for this CPU
  const auto cases = all_cases(interp, cache);
  paw::BatchRunner batch(interp, {.max_batch = 8});
  for (const float temperature : {0.0f, 0.8f}) {
    paw::RunOptions ro;
    ro.max_tokens = 6;
    ro.temperature = temperature;
    ro.seed = 11;
    const auto got = run_concurrently(batch, cases, ro);
    for (size_t i = 0; i < cases.size(); ++i) {
      const paw::RunResult want = cases[i].prog.run(cases[i].want["input"].get<std::string>(), ro);
      EXPECT_EQ(got[i].ids, want.ids) << "case " << i << " temperature " << temperature;
      EXPECT_EQ(got[i].output, want.output) << "case " << i;
    }
  }
}

TEST(BatchRunner, OnTokenRunsOnTheCallerAndCancels) {
  const std::string cache = paw::test::scratch_dir("run-batch-stream");
  auto interp = open_interp(cache, "scalar");
  const auto cases = all_cases(interp, cache);
  paw::BatchRunner batch(interp, {.max_batch = 2});
  const json& c = cases[0].want;
  const auto want = c["ids"].get<std::vector<int32_t>>();
  ASSERT_GE(want.size(), 4u);
  const auto caller = std::this_thread::get_id();
  std::vector<int32_t> seen;
  bool on_caller = true;
  paw::RunOptions ro;
  ro.max_tokens = run_fixture().max_tokens();
  ro.on_token = [&](int32_t id) {
    on_caller &= std::this_thread::get_id() == caller;
    seen.push_back(id);
    return seen.size() < 3;   // stop after the third token
  };
  const paw::RunResult r = batch.run(cases[0].prog, c["input"].get<std::string>(), ro);
  EXPECT_TRUE(on_caller);
  EXPECT_EQ(seen, std::vector<int32_t>(want.begin(), want.begin() + 3));
  EXPECT_EQ(r.ids, seen);
  EXPECT_TRUE(r.cancelled);
  EXPECT_FALSE(r.stopped_at_eos);
  EXPECT_EQ(r.output, c["outputs_after"][3].get<std::string>());
  // Streaming without cancelling sees every token of the full result.
  seen.clear();
  ro.on_token = [&](int32_t id) {
    seen.push_back(id);
    return true;
  };
  const paw::RunResult full = batch.run(cases[0].prog, c["input"].get<std::string>(), ro);
  EXPECT_EQ(full.ids, want);
  EXPECT_EQ(seen, want);
  EXPECT_FALSE(full.cancelled);
}

TEST(BatchRunner, ErrorsReachTheCallerAndTheRunnerGoesOn) {
  const auto& fx = run_fixture();
  const std::string cache = paw::test::scratch_dir("run-batch-errors");
  auto interp = open_interp(cache, "scalar");
  const auto cases = all_cases(interp, cache);
  EXPECT_THROW(paw::BatchRunner(interp, {.max_batch = 0}), paw::Error);
  paw::BatchRunner batch(interp, {.max_batch = 2});
  const uint64_t before = interp.evaluated_tokens();
  try {
    batch.run(cases[0].prog, fx.program("a")["overflow"]["input"].get<std::string>());
    ADD_FAILURE() << "expected a context overflow";
  } catch (const paw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("context overflow"), std::string::npos) << e.what();
  }
  EXPECT_EQ(interp.evaluated_tokens(), before);
  // A program open on another interpreter (another copy of the model) is refused.
  auto other = open_interp(cache, "scalar");
  paw::ProgramOptions po;
  po.cache_dir = cache;
  po.log = [](std::string_view, std::string_view) {};
  const auto foreign = paw::Program::open(fx.program_dir("a"), other, po);
  EXPECT_THROW(batch.run(foreign, "x"), paw::Error);
  // Still right afterwards.
  paw::RunOptions ro;
  ro.max_tokens = fx.max_tokens();
  EXPECT_EQ(batch.run(cases[1].prog, cases[1].want["input"].get<std::string>(), ro).ids,
            cases[1].want["ids"].get<std::vector<int32_t>>());
  EXPECT_GT(interp.evaluated_tokens(), before);
}

}  // namespace
