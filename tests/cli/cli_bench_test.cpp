// `paw bench --json`: one object per test, and with --lora every test twice — without and
// with the adapter — whose per-rep samples pair up: each overhead sample is the ratio of the
// two runs of that rep (time with ÷ time without − 1 = t/s without ÷ t/s with − 1), and the
// reported figures are the medians of the samples. Speeds themselves are not asserted.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_model_util.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/ops/kernels.hpp"

namespace paw {
namespace {

using json = nlohmann::ordered_json;
using test::fixture;

std::vector<json> bench_lines(const std::string& args) {
  std::string out;
  const std::string cmd = test::paw_cmd("bench --json --no-bandwidth " + args);
  EXPECT_EQ(test::run_command(cmd, &out), 0) << cmd;
  std::vector<json> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(json::parse(line));
  return lines;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

TEST(CliBench, LoraRunsArePairedRepByRep) {
  const std::string model = fixture("model --arch qwen3 --preset tiny --type q8_0 --seed 1");
  const std::string lora = fixture("lora --rank 32 --type q4_0 --seed 2 --model " + model);
  const int reps = 3;
  const auto lines = bench_lines("-m " + model + " --lora " + lora + " -p 8 -n 4 -t 1 -r " + std::to_string(reps));
  ASSERT_EQ(lines.size(), 4u) << "pp8 and tg4, each without and with the adapter";
  for (size_t i = 0; i < lines.size(); i += 2) {
    const json& base = lines[i];
    const json& with = lines[i + 1];
    SCOPED_TRACE(base.dump());
    EXPECT_EQ(base["lora"], "");
    EXPECT_NE(with["lora"], "");
    EXPECT_EQ(base["pp"], with["pp"]);
    EXPECT_EQ(base["tg"], with["tg"]);
    EXPECT_FALSE(base.contains("lora_overhead"));
    const auto b = base["samples"].get<std::vector<double>>();
    const auto w = with["samples"].get<std::vector<double>>();
    const auto o = with["lora_overhead_samples"].get<std::vector<double>>();
    ASSERT_EQ(b.size(), static_cast<size_t>(reps));
    ASSERT_EQ(w.size(), static_cast<size_t>(reps));
    ASSERT_EQ(o.size(), static_cast<size_t>(reps));
    for (int r = 0; r < reps; ++r) EXPECT_NEAR(o[r], b[r] / w[r] - 1.0, 1e-9 * (1 + std::abs(o[r]))) << "rep " << r;
    EXPECT_DOUBLE_EQ(with["lora_overhead"].get<double>(), median(o));
    EXPECT_DOUBLE_EQ(base["tokens_per_s"].get<double>(), median(b));
    EXPECT_DOUBLE_EQ(with["tokens_per_s"].get<double>(), median(w));
    EXPECT_GT(with["decode_bytes_per_token"].get<double>(), base["decode_bytes_per_token"].get<double>());
  }
}

TEST(CliBench, WithoutLoraOneRowPerTest) {
  const std::string model = fixture("model --arch qwen3 --preset tiny --type q8_0 --seed 1");
  const auto lines = bench_lines("-m " + model + " -p 8 -n 4 -t 1 -r 2");
  ASSERT_EQ(lines.size(), 2u);
  for (const json& j : lines) {
    EXPECT_EQ(j["lora"], "");
    EXPECT_EQ(j["samples"].size(), 2u);
    EXPECT_FALSE(j.contains("lora_overhead"));
  }
}

// Q4_0 models are interleaved at load unless --no-interleave: the JSON reports the copy's size,
// which is each 2-D Q4_0 tensor's (a tied tiny Qwen3: every linear and the head) with its
// rows rounded up to 16 — computed here from the file's directory.
TEST(CliBench, ReportsTheInterleavedCopyAndNoInterleaveSkipsIt) {
  const std::string model = fixture("model --arch qwen3 --preset tiny --type q4_0 --seed 3");
  uint64_t expected = 0;
  const GGUFFile g = GGUFFile::open(model);
  for (const auto& t : g.tensors())
    if (t.type == DType::Q4_0 && t.ne.size() >= 2 && t.ne[1] > 1)
      expected += static_cast<uint64_t>((t.ne[1] + 15) / 16 * 16) * static_cast<uint64_t>(t.ne[0] / 32) * 18;
  ASSERT_GT(expected, 0u);
  if (&kernels() == &scalar_kernels()) expected = 0;  // the scalar table skips the copy
  const auto lines = bench_lines("-m " + model + " -p 0 -n 2 -t 1 -r 1");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["interleaved_bytes"].get<uint64_t>(), expected);
  const auto plain = bench_lines("-m " + model + " -p 0 -n 2 -t 1 -r 1 --no-interleave");
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0]["interleaved_bytes"].get<uint64_t>(), 0u);
}

}  // namespace
}  // namespace paw
