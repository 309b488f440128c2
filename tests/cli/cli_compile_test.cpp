// `paw compile` end to end on fixture compilers (paw-fixture compiler): the JSON it prints,
// programs that `paw run` / `paw test` / the C++ API run alike, the program cache ("cached"),
// `paw info` on a compiler, and clear errors that leave nothing written.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <nlohmann/json.hpp>

#include "cli/cli_model_util.hpp"
#include "paw/interpreter.hpp"
#include "paw/program/cache.hpp"
#include "paw/program/slugs.hpp"
#include "paw/run.hpp"
#include "common/test_env.hpp"

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
  // The compile put the compiler's interpreter into the cache, so the program runs without --model.
  EXPECT_EQ(a["base_model_in_cache"], true);
  EXPECT_EQ(fs::file_size(cache + "/base_models/interp.gguf"), fs::file_size(f.interp));
  const auto r2 = paw_json("run " + id + " hello --max-tokens 3 --json");
  EXPECT_EQ(r2["output"], r["output"]);
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
      {"--compiler " + f.compiler + " --spec " + quote(kSpec) + " --slug 'Bad Slug'", "illegal slug"},
      {"--compiler " + f.compiler + " --spec " + quote(kSpec) + " --slug ../up", "illegal slug"},
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

TEST(CompileCli, SlugsMakeVersionsThatRunAndList) {
  const CompileFixture& f = fx();
  const std::string cache = scratch_dir("cli_compile_slugs");
  const std::string base = "compile --compiler " + f.compiler + " --json --cache-dir " + cache + " --spec ";
  const std::string spec_b = "Answer yes or no: is the input about the weather?";
  const auto v1 = paw_json(base + quote(kSpec) + " --name 'Question detector'");
  ASSERT_FALSE(v1.is_null());
  EXPECT_EQ(v1["slug"], "question-detector");  // made from --name
  EXPECT_EQ(v1["version"], 1);
  EXPECT_EQ(v1["version_action"], "created");
  EXPECT_EQ(v1["name"], "Question detector");
  const auto again = paw_json(base + quote(kSpec) + " --slug question-detector");
  EXPECT_EQ(again["version"], 1);
  EXPECT_EQ(again["version_action"], "unchanged");
  EXPECT_EQ(again["cached"], true);
  const auto v2 = paw_json(base + quote(spec_b) + " --slug question-detector");
  EXPECT_EQ(v2["version"], 2);
  EXPECT_EQ(v2["version_action"], "new_version");
  ASSERT_NE(v1["program_id"], v2["program_id"]);

  // `paw run SLUG` runs the latest version; SLUG@v1 the first; a missing version is an error.
  ::setenv("PAW_CACHE_DIR", cache.c_str(), 1);
  const std::string run = " hello --model " + f.interp + " --max-tokens 2 --json";
  EXPECT_EQ(paw_json("run question-detector" + run)["program"], v2["program_id"]);
  EXPECT_EQ(paw_json("run question-detector@v1" + run)["program"], v1["program_id"]);
  EXPECT_EQ(paw_json("run --program question-detector" + run)["program"], v2["program_id"]);
  std::string err;
  EXPECT_NE(paw_status("run question-detector@v3" + run, &err), 0);
  EXPECT_NE(err.find("no version 3"), std::string::npos) << err;

  // `paw ls` shows the slugs, versions and the compiler of each program.
  const auto ls = paw_json("ls --json --cache-dir " + cache);
  ASSERT_EQ(ls.size(), 2u);
  int seen = 0;
  for (const auto& e : ls) {
    EXPECT_EQ(e["compiler"], "paw-fixture compiler");
    ASSERT_EQ(e["slugs"].size(), 1u);
    const auto& s = e["slugs"][0];
    EXPECT_EQ(s["slug"], "question-detector");
    if (e["id"] == v1["program_id"]) {
      EXPECT_EQ(s["version"], 1);
      EXPECT_EQ(s["latest"], false);
      ++seen;
    }
    if (e["id"] == v2["program_id"]) {
      EXPECT_EQ(s["version"], 2);
      EXPECT_EQ(s["latest"], true);
      ++seen;
    }
  }
  EXPECT_EQ(seen, 2);
  std::string table;
  ASSERT_EQ(run_command(paw_cmd("ls --cache-dir " + cache), &table), 0);
  EXPECT_NE(table.find("question-detector@v2*"), std::string::npos) << table;
}

// A compile killed at any moment leaves the cache with complete programs only: every listed
// program opens, nothing half-written is listed, and the next compile succeeds.
TEST(CompileCli, KilledCompileLeavesNoPartialProgram) {
  const CompileFixture& f = fx();
  const std::string cache = scratch_dir("cli_compile_killed");
  for (int i = 0; i < 12; ++i) {
    const std::string spec = kSpec + " #" + std::to_string(i);  // a new program each time
    const double delay_s = 0.002 * (i + 1) * (i + 1) / 4.0;       // 0.5 ms .. 72 ms
    char d[32];
    std::snprintf(d, sizeof d, "%.4f", delay_s);
    run_command("timeout -s KILL " + std::string(d) + " " + tool_path("paw") + " compile --compiler " + f.compiler +
                " --cache-dir " + cache + " --slug killed --spec " + quote(spec) + " >/dev/null 2>&1");
    ProgramCache pc(cache);
    for (const CacheEntry& e : pc.list()) {
      EXPECT_TRUE(e.problem.empty()) << e.id << ": " << e.problem;
      EXPECT_NO_THROW(pc.open(e.id)) << e.id;
    }
    // Every folder under programs/ is either complete or a temporary that is never listed.
    if (fs::exists(cache + "/programs"))
      for (const auto& d : fs::directory_iterator(cache + "/programs")) {
        const std::string n = d.path().filename().string();
        if (n.rfind(".tmp-", 0) == 0 || n.rfind(".rm-", 0) == 0) continue;
        EXPECT_TRUE(fs::exists(d.path() / "meta.json") && fs::exists(d.path() / "adapter.gguf") &&
                    fs::exists(d.path() / "prompt_template.txt"))
            << n;
      }
  }
  // The slug (when any version was recorded) names programs that open.
  if (auto rec = SlugRegistry(cache).find("killed")) {
    for (const SlugVersion& v : rec->versions) EXPECT_NO_THROW(ProgramCache(cache).open(v.program_id)) << v.program_id;
  }
  const auto ok = paw_json("compile --compiler " + f.compiler + " --cache-dir " + cache + " --json --spec " + quote(kSpec));
  ASSERT_FALSE(ok.is_null());
  EXPECT_NO_THROW(ProgramCache(cache).open(ok["program_id"].get<std::string>()));
}

// Without libtorch, --method finetune is a clear error that writes nothing (a libtorch build
// runs it: tests/train/finetune_test.cpp).
TEST(CompileCli, FinetuneWithoutTheTrainingLayerSaysSo) {
  const CompileFixture& f = fx();
  const std::string out = f.dir + "/finetune.paw";
  std::string err;
  const int rc = paw_status("compile --method finetune --compiler " + f.compiler + " --spec " + quote(kSpec) + " -o " + out +
                                " --interpreter " + f.interp + " --steps 1",
                            &err);
  if (err.find("needs the training layer") == std::string::npos) GTEST_SKIP() << "a libtorch build: " << err;
  EXPECT_NE(rc, 0);
  EXPECT_NE(err.find("PAW_WITH_TORCH"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_NE(paw_status("compile --method magic --compiler " + f.compiler + " --spec x -o " + out, &err), 0);
}

// A libtorch build: --steps and --stop-loss reach the finetune (the report says the steps run).
TEST(CompileCli, FinetuneStepsAndStopLossReachTheFinetune) {
  const CompileFixture& f = fx();
  const std::string base = "compile --method finetune --json --compiler " + f.compiler + " --interpreter " + f.interp +
                           " --spec " + quote(kSpec) + " -t 1 -o " + f.dir;
  // A bad step count: the training layer's own error, or (without libtorch) the build's.
  std::string err;
  const int rc = paw_status(base + "/ft_bad.paw --steps -3", &err);
  if (err.find("needs the training layer") != std::string::npos) GTEST_SKIP() << "no libtorch in this build";
  EXPECT_NE(rc, 0);
  EXPECT_NE(err.find("steps must be"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(f.dir + "/ft_bad.paw"));
  const auto every = paw_json(base + "/ft_every.paw --steps 3 --stop-loss 0");
  ASSERT_FALSE(every.is_null());
  EXPECT_EQ(every["finetune"]["steps"], 3);
  const auto none = paw_json(base + "/ft_none.paw --steps 3 --stop-loss 1e9");
  ASSERT_FALSE(none.is_null());
  EXPECT_EQ(none["finetune"]["steps"], 0);
}

// Without --compiler or $PAW_COMPILER, the only compiler in the cache's compilers/ folder is used
// (before the shipped one); several there is an error naming them.
TEST(CompileCli, DefaultCompilerComesFromTheCache) {
  const CompileFixture& f = fx();
  const std::string cache = scratch_dir("cli_compile_default");
  fs::create_directories(cache + "/compilers");
  fs::copy_file(f.compiler, cache + "/compilers/mine.gguf");
  ::unsetenv("PAW_COMPILER");
  const auto j = paw_json("compile --json --cache-dir " + cache + " --spec " + quote(kSpec));
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["compiler_snapshot"], "paw-fixture compiler");
  fs::copy_file(f.compiler, cache + "/compilers/other.gguf");
  std::string err;
  EXPECT_NE(paw_status("compile --cache-dir " + cache + " --spec " + quote(kSpec), &err), 0);
  EXPECT_NE(err.find("several compilers in the cache: mine.gguf, other.gguf"), std::string::npos) << err;
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

TEST(CompileCli, ExpertsCompilerReportsWhereTheSpecWasRouted) {
  const CompileFixture& f = fx();
  const std::string experts = f.dir + "/experts.gguf";
  const std::string enc = f.dir + "/enc.gguf";
  ASSERT_EQ(run_command(tool_path("paw-fixture") + " compiler --encoder " + enc + " --interpreter " + f.interp +
                        " --prefix-tokens 4 --n-bases 6 --seed 3 --coef-activation softmax --experts dates,reviews -o " +
                        experts),
            0);
  const auto j = paw_json("compile --compiler " + experts + " --spec " + quote(kSpec) + " -o " + f.dir +
                          "/experts.paw --json --interpreter " + f.interp);
  ASSERT_FALSE(j.is_null());
  ASSERT_TRUE(j.contains("experts")) << j.dump();
  ASSERT_EQ(j["experts"].size(), 2u);
  const double w0 = j["experts"][0]["weight"], w1 = j["experts"][1]["weight"];
  EXPECT_NEAR(w0 + w1, 1.0, 1e-5);
  EXPECT_GE(w0, w1);  // heaviest first
  std::set<std::string> names{j["experts"][0]["name"], j["experts"][1]["name"]};
  EXPECT_EQ(names, (std::set<std::string>{"dates", "reviews"}));
  // The text output names the heaviest expert; `paw info` lists them.
  std::string text;
  ASSERT_EQ(run_command(paw_cmd("compile --compiler " + experts + " --spec " + quote(kSpec) + " -o " + f.dir +
                                "/experts2.paw --interpreter " + f.interp),
                        &text),
            0);
  EXPECT_NE(text.find("expert " + j["expert"].get<std::string>() + " ("), std::string::npos) << text;
  const auto info = paw_json("info " + experts + " --json");
  EXPECT_EQ(info["compiler"]["experts"], nlohmann::json({"dates", "reviews"}));
  // A compiler without experts says nothing about them.
  const auto plain = paw_json("compile --compiler " + f.compiler + " --spec " + quote(kSpec) + " -o " + f.dir +
                              "/plain.paw --json --interpreter " + f.interp);
  EXPECT_FALSE(plain.contains("experts"));
  EXPECT_FALSE(plain.contains("expert"));
}

// The check of the router with the spec's example (kSpec has one), --no-expert-check, --expert
// and an unknown expert.
TEST(CompileCli, ExpertsCompilerChecksItsRouterWithTheSpecsExamples) {
  const CompileFixture& f = fx();
  const std::string experts = f.dir + "/experts3.gguf";
  ASSERT_EQ(run_command(tool_path("paw-fixture") + " compiler --encoder " + f.dir + "/enc.gguf --interpreter " + f.interp +
                        " --prefix-tokens 4 --n-bases 9 --seed 4 --coef-activation softmax --experts a,b,c -o " + experts),
            0);
  const std::string base = "compile --compiler " + experts + " --spec " + quote(kSpec) + " --json --interpreter " + f.interp;
  const auto checked = paw_json(base + " --expert-check -o " + f.dir + "/c1.paw");
  ASSERT_TRUE(checked.contains("expert_check")) << checked.dump();
  ASSERT_EQ(checked["expert_check"].size(), 3u);
  for (const auto& s : checked["expert_check"]) {
    EXPECT_EQ(s["examples"], 1);
    EXPECT_GE(s["answered"].get<int>(), 0);
    EXPECT_GT(s["nll_per_token"].get<double>(), 0.0);
  }
  const std::string by = checked["expert_chosen_by"];
  EXPECT_TRUE(by == "router" || by == "examples") << by;
  EXPECT_GT(checked["timings"]["expert_check_ms"].get<double>(), 0.0);
  // By default the router alone: no check, the heaviest expert.
  const auto routed = paw_json(base + " -o " + f.dir + "/c2.paw");
  EXPECT_FALSE(routed.contains("expert_check"));
  EXPECT_EQ(routed["expert_chosen_by"], "router");
  EXPECT_EQ(routed["expert"], routed["experts"][0]["name"]);
  EXPECT_EQ(routed["timings"]["expert_check_ms"], 0.0);
  // The check keeps the router's program to the byte when it agrees.
  if (by == "router") {
    EXPECT_EQ(checked["program_id"], routed["program_id"]);
  }
  // --expert: that expert's program, each a different one.
  std::set<std::string> ids;
  for (const std::string name : {"a", "b", "c"}) {
    const auto forced = paw_json(base + " --expert " + name + " -o " + f.dir + "/forced_" + name + ".paw");
    EXPECT_EQ(forced["expert"], name);
    EXPECT_EQ(forced["expert_chosen_by"], "option");
    ids.insert(forced["program_id"].get<std::string>());
    if (by == "examples" && checked["expert"] == name) {
      EXPECT_EQ(forced["program_id"], checked["program_id"]);
    }
  }
  EXPECT_EQ(ids.size(), 3u);
  std::string text;
  ASSERT_EQ(run_command(paw_cmd(base.substr(0, base.find(" --json")) + " --expert b -o " + f.dir + "/forced_text.paw"), &text), 0);
  EXPECT_NE(text.find("expert b (chosen with --expert)"), std::string::npos) << text;
  // --expert-check without the interpreter: a clear error, nothing written.
  const std::string lone = f.dir + "/lone";
  fs::create_directories(lone);
  fs::copy_file(experts, lone + "/experts3.gguf", fs::copy_options::overwrite_existing);
  std::string err0;
  EXPECT_NE(run_command(paw_cmd("compile --compiler " + lone + "/experts3.gguf --spec " + quote(kSpec) +
                                " --expert-check -o " + lone + "/x.paw") + " 2>&1", &err0), 0);
  EXPECT_NE(err0.find("--interpreter"), std::string::npos) << err0;
  EXPECT_FALSE(fs::exists(lone + "/x.paw"));
  // An unknown expert: a clear error naming the experts, and nothing written.
  const std::string out = f.dir + "/unknown.paw";
  std::string err;
  EXPECT_NE(run_command(paw_cmd(base + " --expert weather -o " + out) + " 2>&1", &err), 0);
  EXPECT_NE(err.find("unknown expert 'weather'"), std::string::npos) << err;
  EXPECT_NE(err.find("a, b, c"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace paw::test
