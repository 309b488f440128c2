// `paw rebase-experts`: the command writes a compiler that compiles like any other (the
// arithmetic itself is checked in tests/compiler/rebase_test.cpp), and a bad input is an error
// naming the file, with nothing written.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cli/cli_model_util.hpp"
#include "common/compiler_fixture.hpp"
#include "paw/util/sha256.hpp"

namespace paw {
namespace {

namespace fs = std::filesystem;
using test::quote;

// A two-expert compiler (dates, reviews) for the fixture interpreter, written to `path`.
bool make_experts(const std::string& path, int seed) {
  const auto& f = test::compiler_fixture();
  return test::run_command(test::tool_path("paw-fixture") + " compiler --encoder " + f.encoder + " --interpreter " + f.interp +
                           " --prefix-tokens 4 --n-bases 6 --rank 32 --alpha 16 --seed " + std::to_string(seed) +
                           " --coef-activation softmax --experts dates,reviews -o " + path) == 0;
}

TEST(CliRebaseExperts, WritesACompilerThatCompiles) {
  const auto& f = test::compiler_fixture();
  const std::string dir = test::scratch_dir("cli-rebase");
  const std::string experts = dir + "/experts.gguf", out = dir + "/rebased.gguf";
  ASSERT_TRUE(make_experts(experts, 51));
  std::string err;
  ASSERT_EQ(test::paw_status("rebase-experts --experts " + experts + " --from " + f.control + " --to " + f.control +
                                 " -o " + out + " --name rebased-fixture",
                             &err),
            0)
      << err;
  const auto j = test::paw_json("compile --json --compiler " + out + " --expert reviews --spec " + quote("Say yes.") +
                                " -o " + dir + "/p.paw --interpreter " + f.interp);
  ASSERT_TRUE(j.is_object());
  EXPECT_TRUE(fs::exists(dir + "/p.paw"));

  EXPECT_NE(test::paw_status("rebase-experts --experts " + f.compiler + " --from " + f.control + " --to " + f.control +
                                 " -o " + dir + "/bad.gguf",
                             &err),
            0);
  EXPECT_NE(err.find("not an experts compiler"), std::string::npos) << err;
  EXPECT_NE(err.find(f.compiler), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir + "/bad.gguf"));
}

TEST(CliRebaseExperts, SetGivesOneExpertAControlsProgram) {
  const auto& f = test::compiler_fixture();
  const std::string dir = test::scratch_dir("cli-rebase-set");
  const std::string experts = dir + "/experts.gguf", out = dir + "/set.gguf";
  ASSERT_TRUE(make_experts(experts, 52));
  std::string err;
  // Named like the control, so that the adapters' general.name agrees too.
  const std::string control_name = test::paw_json("info --json " + f.control)["compiler"]["name"].get<std::string>();
  ASSERT_EQ(test::paw_status("rebase-experts --experts " + experts + " --set reviews=" + f.control + " -o " + out +
                                 " --name " + quote(control_name), &err),
            0)
      << err;
  // The set expert's program is the control's: both compile a spec into the same adapter bytes.
  const std::string spec = quote("Say yes.");
  ASSERT_EQ(test::paw_status("compile --compiler " + out + " --expert reviews --spec " + spec + " -o " + dir +
                                 "/set.paw --interpreter " + f.interp, &err),
            0)
      << err;
  ASSERT_EQ(test::paw_status("compile --compiler " + f.control + " --spec " + spec + " -o " + dir + "/control.paw --interpreter " +
                                 f.interp, &err),
            0)
      << err;
  for (const char* p : {"set", "control"})
    ASSERT_EQ(test::paw_status(std::string("unpack ") + dir + "/" + p + ".paw -o " + dir + "/" + p, &err), 0) << err;
  EXPECT_EQ(sha256_file_hex(dir + "/set/adapter.gguf"), sha256_file_hex(dir + "/control/adapter.gguf"));

  for (const std::string bad : {"reviews", "=x.gguf", "reviews="}) {
    EXPECT_NE(test::paw_status("rebase-experts --experts " + experts + " --set " + quote(bad) + " -o " + dir + "/bad.gguf", &err), 0);
    EXPECT_NE(err.find("EXPERT=FILE"), std::string::npos) << err;
  }
  EXPECT_NE(test::paw_status("rebase-experts --experts " + experts + " --set reviews=" + f.control + " --set reviews=" + f.control +
                                 " -o " + dir + "/bad.gguf", &err),
            0);
  EXPECT_NE(err.find("twice"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir + "/bad.gguf"));
}

}  // namespace
}  // namespace paw
