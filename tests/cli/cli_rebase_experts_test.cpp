// `paw rebase-experts`: the command writes a compiler that compiles like any other (the
// arithmetic itself is checked in tests/compiler/rebase_test.cpp), and a bad input is an error
// naming the file, with nothing written.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cli/cli_model_util.hpp"
#include "common/compiler_fixture.hpp"

namespace paw {
namespace {

namespace fs = std::filesystem;
using test::quote;

TEST(CliRebaseExperts, WritesACompilerThatCompiles) {
  const auto& f = test::compiler_fixture();
  const std::string dir = test::scratch_dir("cli-rebase");
  const std::string experts = dir + "/experts.gguf", out = dir + "/rebased.gguf";
  ASSERT_EQ(test::run_command(test::tool_path("paw-fixture") + " compiler --encoder " + f.encoder + " --interpreter " + f.interp +
                              " --prefix-tokens 4 --n-bases 6 --rank 32 --alpha 16 --seed 51 --coef-activation softmax"
                              " --experts dates,reviews -o " + experts),
            0);
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

}  // namespace
}  // namespace paw
