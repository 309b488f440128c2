// The quick start's main job: scripts/demo.sh compiles a spec with the shipped trained compiler
// and prints the answers the README shows. And the shipped random fixture program
// (models/example-triage.paw, noise by design) still runs on the shipped random model through
// `paw run` (run semantics are checked against the reference in
// tests/program/run_semantics_test.cpp).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "common/test_env.hpp"

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

// The quick start's main job (scripts/demo.sh: compile examples/specs/dates.txt with the shipped
// compiler, run it on the shipped interpreter) prints exactly the answers the README shows
// between <!-- demo-output --> and <!-- /demo-output -->, and those answers are right (the
// README's expected dates are checked against the inputs by hand-written rules here).
TEST(CliQuickstart, DemoPrintsTheAnswersTheReadmeShows) {
  const std::string src = paw::test::source_dir();
  std::ifstream readme(src + "/README.md");
  std::string line;
  std::vector<std::string> shown;
  bool in = false;
  while (std::getline(readme, line)) {
    if (line.find("<!-- demo-output -->") != std::string::npos) {
      in = true;
    } else if (line.find("<!-- /demo-output -->") != std::string::npos) {
      in = false;
    } else if (in && line.find(" -> ") != std::string::npos) {
      shown.push_back(line);
    }
  }
  ASSERT_GE(shown.size(), 3u) << "README.md has no demo-output block";
  const std::string cache = paw::test::scratch_dir("demo-cache");
  std::string out;
  const std::string cmd = "PAW_CACHE_DIR=" + cache + " PAW_BUILD_DIR=" + paw::test::binary_dir() + " timeout 300 " +
                          src + "/scripts/demo.sh";
  ASSERT_EQ(paw::test::run_command(cmd, &out), 0) << cmd;
  std::vector<std::string> printed;  // the answer lines: those after the "== paw run" header
  std::istringstream lines(out);
  bool answers = false;
  while (std::getline(lines, line)) {
    if (line.rfind("== paw run", 0) == 0) answers = true;
    else if (answers && line.find(" -> ") != std::string::npos) printed.push_back(line);
  }
  EXPECT_EQ(printed, shown) << out;
  // The answers shown are right: each output is the input's date as YYYY-MM-DD.
  const std::map<std::string, std::string> months = {{"Jan", "01"}, {"Feb", "02"}, {"Mar", "03"}, {"Apr", "04"},
                                                     {"May", "05"}, {"Jun", "06"}, {"Jul", "07"}, {"Aug", "08"},
                                                     {"Sep", "09"}, {"Oct", "10"}, {"Nov", "11"}, {"Dec", "12"}};
  const std::regex dmy(R"((\d{1,2})-([A-Z][a-z]{2})-(\d{4}))"), ymd(R"((\d{4})/(\d{2})/(\d{2}))");
  for (const std::string& l : shown) {
    const std::string input = l.substr(0, l.find(" -> ")), output = l.substr(l.find(" -> ") + 4);
    std::smatch m;
    std::string want;
    if (std::regex_search(input, m, dmy)) {
      const std::string d = m[1].str();
      want = m[3].str() + "-" + months.at(m[2].str()) + "-" + (d.size() == 1 ? "0" + d : d);
    } else if (std::regex_search(input, m, ymd)) {
      want = m[1].str() + "-" + m[2].str() + "-" + m[3].str();
    }
    ASSERT_FALSE(want.empty()) << "no date the rules know in: " << input;
    EXPECT_EQ(output, want) << l;
  }
}
