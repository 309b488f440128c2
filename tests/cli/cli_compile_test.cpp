// `paw compile` end to end on fixture compilers (paw-fixture compiler): the JSON it prints,
// programs that `paw run` / `paw test` / the C++ API run alike, the program cache ("cached"),
// `paw info` on a compiler, and clear errors that leave nothing written.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/cli_model_util.hpp"
#include "paw/interpreter.hpp"
#include "paw/run.hpp"
#include "test_env.hpp"

namespace paw::test {
namespace {

namespace fs = std::filesystem;

struct CompileFixture {
  std::string dir, interp, other, compiler;
};

const CompileFixture& fx() {
  static const CompileFixture f = [] {
    CompileFixture x;
    x.dir = scratch_dir("cli_compile");
    x.interp = x.dir + "/interp.gguf";
    x.other = x.dir + "/other.gguf";
    x.compiler = x.dir + "/compiler.gguf";
    const std::string t = tool_path("paw-fixture");
    const std::string enc = x.dir + "/enc.gguf";
    for (const std::string& cmd :
         {t + " model --arch qwen3 --preset tiny --seed 1 -o " + x.interp, t + " model --arch qwen3 --preset tiny --seed 8 -o " + x.other,
          t + " model --arch qwen3 --preset tiny --seed 2 -o " + enc,
          t + " compiler --encoder " + enc + " --interpreter " + x.interp + " --prefix-tokens 4 --n-bases 2 --seed 3 -o " +
              x.compiler})
      if (run_command(cmd) != 0) throw std::runtime_error("fixture failed: " + cmd);
    return x;
  }();
  return f;
}

const std::string kSpec = "Answer yes or no: is the input a question?\nInput: how are you\nOutput: yes";

TEST(CompileCli, JsonProgramRunsLikeTheApi) {
  const CompileFixture& f = fx();
  const std::string out = f.dir + "/p.paw";
  const auto j = paw_json("compile --compiler " + f.compiler + " --spec " + quote(kSpec) + " -o " + out +
                          " --json --interpreter " + f.interp);
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["status"], "ready");
  EXPECT_EQ(j["cached"], false);
  EXPECT_EQ(j["path"], out);
  EXPECT_EQ(j["compiler_snapshot"], "paw-fixture compiler");
  EXPECT_EQ(j["pseudo_program_strategy"], "spec");
  EXPECT_EQ(j["runtime_id"], "paw-interp");
  EXPECT_EQ(j["program_id"].get<std::string>().size(), 32u);
  EXPECT_GT(j["timings"]["total_ms"].get<double>(), 0.0);
  ASSERT_TRUE(fs::exists(out));

  const std::string cache = scratch_dir("cli_compile_run_cache");
  ::setenv("PAW_CACHE_DIR", cache.c_str(), 1);
  const auto r = paw_json("run " + out + " " + quote("is it raining?") + " --model " + f.interp + " --max-tokens 6 --json");
  ASSERT_FALSE(r.is_null());
  ProgramOptions po;
  po.cache_dir = scratch_dir("cli_compile_api_cache");
  po.log = [](std::string_view, std::string_view) {};
  const Interpreter interp = Interpreter::open(f.interp);
  const Program p = Program::open(out, interp, po);
  RunOptions ro;
  ro.max_tokens = 6;
  EXPECT_EQ(r["output"], p.run("is it raining?", ro).output);
  EXPECT_EQ(p.id(), j["program_id"]);

  // paw test runs it too (exact-match report; the random program answers wrong: exit 1).
  const std::string cases = f.dir + "/cases.jsonl";
  std::ofstream(cases) << "{\"input\":\"is it raining?\",\"expected\":\"yes\"}\n";
  std::string err;
  const int rc = paw_status("test " + out + " " + cases + " --model " + f.interp, &err);
  EXPECT_TRUE(rc == 0 || rc == 1) << err;
}

TEST(CompileCli, SameSpecTwiceIsCachedWithTheSameId) {
  const CompileFixture& f = fx();
  const std::string cache = scratch_dir("cli_compile_cache");
  const std::string args = "compile --compiler " + f.compiler + " --spec " + quote(kSpec) + " --json --cache-dir " + cache;
  const auto a = paw_json(args), b = paw_json(args);
  ASSERT_FALSE(a.is_null());
  ASSERT_FALSE(b.is_null());
  EXPECT_EQ(a["cached"], false);
  EXPECT_EQ(b["cached"], true);
  EXPECT_EQ(a["program_id"], b["program_id"]);
  const std::string id = a["program_id"];
  EXPECT_TRUE(fs::exists(cache + "/programs/" + id + "/adapter.gguf"));
  ::setenv("PAW_CACHE_DIR", cache.c_str(), 1);
  const auto r = paw_json("run " + id + " hello --model " + f.interp + " --max-tokens 3 --json");
  EXPECT_EQ(r["program"], id);
}

TEST(CompileCli, BadInputIsAClearErrorAndWritesNothing) {
  const CompileFixture& f = fx();
  const std::string out = f.dir + "/never.paw";
  const std::string cache = scratch_dir("cli_compile_bad_cache");
  struct Case {
    std::string args, needle;
  } cases[] = {
      {"--compiler " + f.compiler + " --spec '   '", "spec is empty"},
      {"--compiler " + f.interp + " --spec " + quote(kSpec), "not a compiler file"},
      {"--compiler " + f.dir + "/missing.gguf --spec " + quote(kSpec), "missing.gguf"},
      {"--compiler " + f.compiler + " --spec " + quote(kSpec) + " --interpreter " + f.other,
       "not the one this compiler was trained for"},
      {"--compiler " + f.compiler + " --spec " + quote(kSpec) + " --adapter-type q6_k", "unknown adapter type"},
      {"--compiler " + f.compiler + " --spec x --spec-file " + f.dir + "/nope.txt", "--spec or --spec-file"},
  };
  for (const Case& c : cases) {
    std::string err;
    const int rc = paw_status("compile " + c.args + " -o " + out + " --cache-dir " + cache, &err);
    EXPECT_NE(rc, 0) << c.args;
    EXPECT_NE(err.find(c.needle), std::string::npos) << c.args << "\n" << err;
    EXPECT_FALSE(fs::exists(out)) << c.args;
    EXPECT_FALSE(fs::exists(cache + "/programs")) << c.args;
  }
}

TEST(CompileCli, InfoDescribesACompiler) {
  const CompileFixture& f = fx();
  const auto j = paw_json("info " + f.compiler + " --json");
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["compiler"]["prefix_tokens"], 4);
  EXPECT_EQ(j["compiler"]["n_bases"], 2);
  EXPECT_EQ(j["compiler"]["interpreter"]["file"], "interp.gguf");
  EXPECT_EQ(j["compiler"]["interpreter"]["size"], fs::file_size(f.interp));
  EXPECT_EQ(j["compiler"]["spec_conditioned"], true);
}

}  // namespace
}  // namespace paw::test
