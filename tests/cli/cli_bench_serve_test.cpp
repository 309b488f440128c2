// `paw bench-serve --json`: one object per (max_batch, clients) level with the load it sent and
// what came back — every call answered, token counts within the limits, the server's batching
// figures (no batching at --max-batch 0; batched steps at most --max-batch rows) and the
// ratios between levels computed from the printed rates. Speeds themselves are not asserted.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_model_util.hpp"
#include "common/run_fixture.hpp"
#include "common/test_env.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using paw::test::run_fixture;

TEST(CliBenchServe, LevelsReportEveryCallAndTheBatching) {
  const auto& fx = run_fixture();
  const std::string dir = paw::test::scratch_dir("bench-serve-programs");
  fs::copy_file(fx.paw_file(), dir + "/a.paw", fs::copy_options::overwrite_existing);
  ASSERT_EQ(paw::test::run_command(paw::test::paw_cmd("pack " + fx.program_dir("b") + " -o " + dir + "/b.paw")), 0);
  std::string out;
  const std::string cmd = paw::test::paw_cmd("bench-serve --json -m " + fx.model() + " --programs " + dir +
                                             " --clients 1,3 --max-batch 0,2 -r 2 -n 3 --input-tokens 6 -t 1");
  ASSERT_EQ(paw::test::run_command(cmd, &out), 0) << cmd << "\n" << out;
  std::vector<json> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] == '{') lines.push_back(json::parse(line));
  ASSERT_EQ(lines.size(), 4u) << out;
  for (size_t i = 0; i < lines.size(); ++i) {
    const json& l = lines[i];
    SCOPED_TRACE(l.dump());
    const int max_batch = i < 2 ? 0 : 2, clients = i % 2 == 0 ? 1 : 3;
    EXPECT_EQ(l["max_batch"], max_batch);
    EXPECT_EQ(l["clients"], clients);
    EXPECT_EQ(l["programs"], std::min(clients, 2));
    EXPECT_EQ(l["requests"], clients * 2);
    EXPECT_EQ(l["errors"], 0);
    EXPECT_GT(l["generated_tokens"].get<int>(), 0);
    EXPECT_LE(l["generated_tokens"].get<int>(), clients * 2 * 3);
    EXPECT_NEAR(l["tokens_per_s"].get<double>(), l["generated_tokens"].get<double>() / l["wall_s"].get<double>(),
                1e-6 * l["tokens_per_s"].get<double>());
    EXPECT_LE(l["p50_ms"].get<double>(), l["p99_ms"].get<double>());
    if (max_batch == 0) {
      EXPECT_EQ(l["mean_batch_sequences"], 0.0);
      EXPECT_FALSE(l.contains("vs_max_batch_0"));
    } else {
      EXPECT_GE(l["mean_batch_sequences"].get<double>(), 1.0);
      EXPECT_LE(l["mean_batch_sequences"].get<double>(), 2.0);
      EXPECT_NEAR(l["vs_max_batch_0"].get<double>(), l["tokens_per_s"].get<double>() / lines[i - 2]["tokens_per_s"].get<double>(), 1e-9);
    }
    const json& one = lines[i - i % 2];
    EXPECT_NEAR(l["vs_1_client"].get<double>(), l["tokens_per_s"].get<double>() / one["tokens_per_s"].get<double>(), 1e-9);
  }
}

TEST(CliBenchServe, NoProgramsIsAClearError) {
  const auto& fx = run_fixture();
  const std::string dir = paw::test::scratch_dir("bench-serve-empty");
  std::string out;
  const std::string cmd = paw::test::paw_cmd("bench-serve -m " + fx.model() + " --programs " + dir + " 2>&1");
  EXPECT_NE(paw::test::run_command(cmd, &out), 0);
  EXPECT_NE(out.find("no programs to serve"), std::string::npos) << out;
}

}  // namespace
