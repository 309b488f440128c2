// `paw eval`: the JSON report of a JSONL run agrees with the per-case predictions file, two
// models give two reports, and bad arguments fail with a message naming the option or file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli_model_util.hpp"
#include "common/compiler_fixture.hpp"

namespace paw::test {
namespace {

TEST(CliEval, JsonReportMatchesThePredictionsFile) {
  const std::string model = fixture("model --arch qwen3 --preset tiny --type f32 --seed 93");
  const std::string dir = scratch_dir("cli-eval");
  const std::string cases = dir + "/cases.jsonl";
  std::ofstream(cases) << R"({"spec":"Say a word.","input":"a","output":"x","family":"f1","split":"s"})" << "\n"
                       << R"({"spec":"Say a word.","input":"b","output":"y","family":"f2","split":"s"})" << "\n";
  const std::string preds = dir + "/pred.jsonl";
  const auto j = paw_json("eval -m " + model + " -m " + model + " --data " + cases + " --max-tokens 3 -c 128 --kv-type f32 " +
                          "--json --quiet --predictions " + preds);
  ASSERT_TRUE(j.is_object());
  ASSERT_EQ(j["models"].size(), 2u);
  EXPECT_EQ(j["models"][0]["total"]["n"], 2);
  EXPECT_EQ(j["models"][0]["families"].size(), 2u);
  EXPECT_GT(j["models"][0]["peak_rss_bytes"].get<uint64_t>(), 0u);
  EXPECT_EQ(j["models"][0]["model_bytes"].get<uint64_t>(), std::filesystem::file_size(model));
  // The same model on the same cases, greedy: identical answers in both runs.
  std::ifstream f(preds);
  std::string line;
  std::vector<nlohmann::json> rows;
  while (std::getline(f, line)) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["prediction"], rows[2]["prediction"]);
  EXPECT_EQ(rows[1]["prediction"], rows[3]["prediction"]);
  int exact = 0;
  for (int i = 0; i < 2; ++i) {
    exact += rows[i]["exact"].get<bool>();
    EXPECT_LE(rows[i]["answer_tokens"].get<int>(), 3);
  }
  EXPECT_EQ(j["models"][0]["total"]["exact"], exact);
}

// A spec longer than the compiler's encoder reads costs its own cases (skipped, scored wrong),
// not the whole evaluation; a bad --expert still stops it.
TEST(CliEval, ASpecTheCompilerCannotReadIsSkipped) {
  const auto& f = compiler_fixture();
  const std::string dir = scratch_dir("cli-eval-long-spec");
  const std::string cases = dir + "/cases.jsonl";
  std::string long_spec;
  for (int i = 0; i < 3000; ++i) long_spec += "word ";
  std::ofstream(cases) << nlohmann::json({{"spec", "Say a word."}, {"input", "a"}, {"output", "x"}}).dump() << "\n"
                       << nlohmann::json({{"spec", long_spec}, {"input", "b"}, {"output", "y"}}).dump() << "\n";
  const auto j = paw_json("eval -m " + f.interp + " --mode program --compiler " + f.compiler + " --data " + cases +
                          " --max-tokens 3 -c 256 --json --quiet");
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["models"][0]["total"]["n"], 2);
  EXPECT_EQ(j["models"][0]["skipped"], 1);
  EXPECT_EQ(j["models"][0]["programs_compiled"], 1);
  std::string err;
  EXPECT_NE(paw_status("eval -m " + f.interp + " --mode program --compiler " + f.softmax + " --expert nosuch --data " +
                           cases + " --quiet",
                       &err),
            0);
  EXPECT_NE(err.find("nosuch"), std::string::npos) << err;
}

TEST(CliEval, BadArgumentsNameTheProblem) {
  const std::string model = fixture("model --arch qwen3 --preset tiny --type f32 --seed 93");
  std::string err;
  EXPECT_NE(paw_status("eval -m " + model + " --mode compiled", &err), 0);
  EXPECT_NE(err.find("--mode"), std::string::npos) << err;
  EXPECT_NE(paw_status("eval -m " + model + " --splits heldout_parms", &err), 0);
  EXPECT_NE(err.find("heldout_parms"), std::string::npos) << err;
  EXPECT_NE(paw_status("eval -m " + model + " --data /nonexistent/cases.jsonl", &err), 0);
  EXPECT_NE(err.find("/nonexistent/cases.jsonl"), std::string::npos) << err;
}

}  // namespace
}  // namespace paw::test
