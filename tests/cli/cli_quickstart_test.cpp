// The quick start's main job must keep working: the shipped example program is a valid bundle
// for the shipped model and runs to completion through `paw run` (its output is noise — the
// weights are random — so only the shape of the answer is checked here; run semantics are
// checked against the reference in tests/program/run_semantics_test.cpp).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "test_env.hpp"

TEST(CliQuickstart, ShippedExampleProgramRunsOnShippedModel) {
  const std::string src = paw::test::source_dir();
  const std::string cache = paw::test::scratch_dir("quickstart-cache");
  std::string out;
  std::string cmd = "PAW_CACHE_DIR=" + cache + " timeout 120 " + paw::test::tool_path("paw") + " run " + src +
                    "/models/example-triage.paw 'The database is down' --model " + src +
                    "/models/paw-tiny-qwen3.gguf --max-tokens 8 --json";
  ASSERT_EQ(paw::test::run_command(cmd, &out), 0) << cmd;
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["mode"], "program");
  EXPECT_EQ(j["input"], "The database is down");
  EXPECT_TRUE(j["output"].is_string());
  EXPECT_EQ(j["program"].get<std::string>().size(), 32u);
}
