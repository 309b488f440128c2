// `paw run`, `paw test` and `paw info` on programs, end to end, against the reference
// fixture (tests/reference/run_fixture.py: outputs computed independently of paw). The runs
// that compare text use PAW_CPU=scalar (the reference kernels) so that a float near-tie cannot
// flip a greedy choice; -t 1 keeps the tests from spinning OpenMP threads on a busy machine.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "paw/runtime/prefix_state.hpp"
#include "paw/util/error.hpp"
#include "common/run_fixture.hpp"
#include "common/test_env.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using paw::test::run_fixture;

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

int count_lines_starting(const std::string& text, const std::string& prefix) {
  int n = 0;
  for (const auto& l : lines_of(text)) n += l.rfind(prefix, 0) == 0;
  return n;
}

struct Result {
  int status = -1;
  std::string out, err;
};

// Runs `paw ARGS` with its own cache, the reference kernels and one thread.
struct Cli {
  std::string dir = paw::test::scratch_dir("run-cli");
  std::string cache = dir + "/cache";

  Result run(const std::string& args, const std::string& stdin_text = {}, const std::string& env = {}) const {
    const std::string in = dir + "/stdin.txt", err = dir + "/stderr.txt";
    std::ofstream(in, std::ios::binary) << stdin_text;
    const std::string cmd = "PAW_CACHE_DIR=" + cache + " PAW_CPU=scalar " + env + " " + paw::test::tool_path("paw") + " " +
                            args + " < " + in + " 2> " + err;
    Result r;
    r.status = paw::test::run_command(cmd, &r.out);
    r.err = slurp(err);
    return r;
  }
};

std::string model_flags() { return "--model " + run_fixture().model() + " -t 1 --max-tokens " + std::to_string(run_fixture().max_tokens()); }

TEST(RunCli, JsonlMatchesTheReference) {
  const auto& fx = run_fixture();
  Cli cli;
  for (const char* name : {"a", "b"}) {
    std::string in;
    for (const json& c : fx.program(name)["cases"]) in += json{{"input", c["input"]}}.dump() + "\n";
    Result r = cli.run("run " + fx.program_dir(name) + " --jsonl " + model_flags(), in);
    ASSERT_EQ(r.status, 0) << r.err;
    auto got = lines_of(r.out);
    ASSERT_EQ(got.size(), fx.program(name)["cases"].size()) << r.out;
    for (size_t i = 0; i < got.size(); ++i) {
      json j = json::parse(got[i]);
      const json& c = fx.program(name)["cases"][i];
      EXPECT_EQ(j["input"], c["input"]);
      EXPECT_EQ(j["output"], c["output"]) << name << " case " << i;
      EXPECT_EQ(j.size(), 2u) << got[i];
    }
    // One plain warning: the tiny model is not the base the program was compiled for.
    EXPECT_EQ(count_lines_starting(r.err, "paw: warning: "), 1) << r.err;
    EXPECT_EQ(count_lines_starting(r.err, "paw: note: "), 0) << r.err;
  }
}

TEST(RunCli, SingleInputJsonAndStdin) {
  const auto& fx = run_fixture();
  Cli cli;
  const json& c = fx.program("a")["cases"][0];
  const std::string input = c["input"].get<std::string>();
  Result plain = cli.run("run " + fx.paw_file() + " " + quote(input) + " " + model_flags());
  ASSERT_EQ(plain.status, 0) << plain.err;
  EXPECT_EQ(plain.out, c["output"].get<std::string>() + "\n");

  Result js = cli.run("run " + fx.program("a")["id"].get<std::string>() + " " + quote(input) + " --json " + model_flags());
  ASSERT_EQ(js.status, 0) << js.err;
  const std::string expect_line = R"({"mode":"program","program":")" + fx.program("a")["id"].get<std::string>() +
                                  R"(","interpreter":"Qwen/Qwen3-0.6B","input":)" + json(input).dump() +
                                  R"(,"output":)" + json(c["output"]).dump() + "}\n";
  EXPECT_EQ(js.out, expect_line);

  // No INPUT: stdin, without its final newline.
  Result in = cli.run("run " + fx.program_dir("a") + " " + model_flags(), input + "\n");
  ASSERT_EQ(in.status, 0) << in.err;
  EXPECT_EQ(in.out, plain.out);
}

TEST(RunCli, BaseMode) {
  const auto& fx = run_fixture();
  Cli cli;
  for (const json& c : fx.expected["base"]) {
    Result r = cli.run("run --base qwen3 " + quote(c["input"].get<std::string>()) + " --json " + model_flags());
    ASSERT_EQ(r.status, 0) << r.err;
    json j = json::parse(r.out);
    EXPECT_EQ(j["mode"], "base");
    EXPECT_TRUE(j["program"].is_null());
    EXPECT_EQ(j["interpreter"], "Qwen/Qwen3-0.6B");
    EXPECT_EQ(j["output"], c["output"]);
  }
  Result wrong = cli.run("run --base gpt2 hello " + model_flags());
  EXPECT_EQ(wrong.status, 1);
  EXPECT_NE(wrong.err.find("needs a gpt2 model"), std::string::npos) << wrong.err;
}

TEST(RunCli, ContextOverflowFailsWithTheCounts) {
  const auto& fx = run_fixture();
  Cli cli;
  const json& ov = fx.program("a")["overflow"];
  Result r = cli.run("run " + fx.program_dir("a") + " " + quote(ov["input"].get<std::string>()) + " " + model_flags());
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  const std::string n_prefix = std::to_string(fx.program("a")["prefix_ids"].size());
  EXPECT_NE(r.err.find("context overflow"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("prefix " + n_prefix + " + input " + std::to_string(ov["input_tokens"].get<int64_t>())),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("2048"), std::string::npos) << r.err;
}

TEST(RunCli, PawTestReportsAccuracyAndExitCodes) {
  const auto& fx = run_fixture();
  Cli cli;
  const json& cases = fx.program("a")["cases"];
  // Four cases whose expected outputs come from the reference (one padded with whitespace,
  // which is trimmed before comparing), two deliberately wrong.
  std::string text;
  for (int i : {0, 1, 2}) text += json{{"input", cases[i]["input"]}, {"expected", cases[i]["output"]}}.dump() + "\n";
  text += json{{"input", cases[4]["input"]}, {"output", " " + cases[4]["output"].get<std::string>() + "\n"}}.dump() + "\n";
  text += json{{"input", cases[3]["input"]}, {"expected", "immediate"}}.dump() + "\n";
  text += json{{"input", cases[5]["input"]}, {"expected", cases[0]["output"]}}.dump() + "\n";
  const std::string file = cli.dir + "/cases.jsonl";
  std::ofstream(file) << text;
  const std::string args = "test " + fx.program_dir("a") + " " + file + " " + model_flags();

  Result all = cli.run(args);
  EXPECT_EQ(all.status, 1) << all.out << all.err;
  EXPECT_NE(all.out.find("4/6 passed"), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("immediate"), std::string::npos) << "the failure table shows the expected text\n" << all.out;
  EXPECT_EQ(count_lines_starting(all.out, "    5  "), 1) << all.out;   // failures listed by line number
  EXPECT_EQ(count_lines_starting(all.out, "    6  "), 1) << all.out;
  EXPECT_EQ(count_lines_starting(all.out, "    1  "), 0) << all.out;

  EXPECT_EQ(cli.run(args + " --min-accuracy 0.7").status, 1);
  Result js = cli.run(args + " --json --min-accuracy 0.6");
  ASSERT_EQ(js.status, 0) << js.err;
  json j = json::parse(js.out);
  EXPECT_EQ(j["total"], 6);
  EXPECT_EQ(j["passed"], 4);
  EXPECT_EQ(j["pass"], true);
  ASSERT_EQ(j["failures"].size(), 2u);
  EXPECT_EQ(j["failures"][0]["line"], 5);
  EXPECT_EQ(j["failures"][0]["got"], cases[3]["output"]);

  const std::string good = cli.dir + "/good.jsonl";
  std::string first4;
  const auto all_lines = lines_of(text);
  for (size_t i = 0; i < 4; ++i) first4 += all_lines[i] + "\n";
  std::ofstream(good) << first4;
  Result ok = cli.run("test " + fx.program_dir("a") + " " + good + " " + model_flags());
  EXPECT_EQ(ok.status, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("4/4 passed"), std::string::npos) << ok.out;
}

TEST(RunCli, InfoDescribesAProgram) {
  const auto& fx = run_fixture();
  Cli cli;
  const std::string env = "PAW_MODEL=" + fx.model();
  Result r = cli.run("info " + fx.program_dir("a"), {}, env);
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* want : {"program a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", "bundle v4", "Qwen/Qwen3-0.6B", "rank 64", "alpha 16",
                           "type q4_0", "attn_q", "ffn_down", "in 3 layer(s)", "[PSEUDO_PROGRAM]", "adapter check: ok"})
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;

  Result js = cli.run("info " + fx.program_dir("b") + " --json", {}, env);
  ASSERT_EQ(js.status, 0) << js.err;
  json j = json::parse(js.out);
  EXPECT_EQ(j["program"], fx.program("b")["id"]);
  EXPECT_EQ(j["meta"]["version"], 3);
  EXPECT_EQ(j["adapter"]["ranks"], json::array({32}));
  EXPECT_EQ(j["adapter"]["types"], json::array({"q4_0"}));
  EXPECT_EQ(j["adapter"]["alpha"], 32.0);
  EXPECT_EQ(j["base_model"]["adapter_check"], "ok");
  EXPECT_EQ(j["template"]["suffix"], "\n[END_INPUT]<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");

  // Without a base model: the program is still described, and the missing model explained.
  Result none = cli.run("info " + fx.paw_file());
  ASSERT_EQ(none.status, 0) << none.err;
  EXPECT_NE(none.out.find("base model: not available"), std::string::npos) << none.out;
  EXPECT_NE(none.out.find("qwen3-0.6b-q6_k.gguf"), std::string::npos) << none.out;
}

TEST(RunCli, NoPrefixCacheWritesNothing) {
  const auto& fx = run_fixture();
  Cli cli;
  const json& c = fx.program("a")["cases"][1];
  Result r = cli.run("run " + fx.paw_file() + " " + quote(c["input"].get<std::string>()) + " --no-prefix-cache " + model_flags());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, c["output"].get<std::string>() + "\n");
  EXPECT_FALSE(fs::exists(cli.cache + "/programs")) << "nothing imported, nothing written";
}

// A process killed while writing prefix_kv_cache.bin (paused half-way by the test hook) leaves
// only a temporary; the next run ignores and removes it, computes the same output, and writes
// a complete file.
TEST(RunCli, KilledWriterNeverLeavesAFileThatLoads) {
  const auto& fx = run_fixture();
  Cli cli;
  const json& c = fx.program("a")["cases"][0];
  const std::string prog_dir = cli.cache + "/programs/" + fx.program("a")["id"].get<std::string>();
  const std::string file = prog_dir + "/prefix_kv_cache.bin";

  const std::string paw = paw::test::tool_path("paw");
  const std::string model = fx.model();
  const std::string input = c["input"].get<std::string>();
  const std::string prog = fx.program_dir("a");
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setenv("PAW_CACHE_DIR", cli.cache.c_str(), 1);
    ::setenv("PAW_CPU", "scalar", 1);
    ::setenv("PAW_TEST_PREFIX_WRITE_PAUSE_MS", "600000", 1);
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execl(paw.c_str(), paw.c_str(), "run", prog.c_str(), input.c_str(), "--model", model.c_str(), "-t", "1",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Wait (bounded, generously) until the writer has put bytes into its temporary file.
  std::string tmp;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (tmp.empty() && std::chrono::steady_clock::now() < give_up) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      ADD_FAILURE() << "paw exited before writing the prefix cache (status " << status << ")";
      return;
    }
    std::error_code ec;
    if (fs::is_directory(prog_dir, ec))
      for (const auto& e : fs::directory_iterator(prog_dir, ec))
        if (e.path().filename().string().rfind(".prefix_kv_cache.bin.tmp-", 0) == 0 && e.file_size(ec) > 0)
          tmp = e.path().string();
    if (tmp.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_FALSE(tmp.empty()) << "the writer never started";
  EXPECT_TRUE(WIFSIGNALED(status));

  EXPECT_FALSE(fs::exists(file)) << "the real name appears only when the file is complete";
  EXPECT_THROW(paw::PrefixState::load(tmp), paw::Error) << "the half-written temporary does not load";

  Result again = cli.run("run " + prog + " " + quote(input) + " " + model_flags());
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(again.out, c["output"].get<std::string>() + "\n");
  EXPECT_EQ(count_lines_starting(again.err, "paw: note: "), 0) << again.err;
  ASSERT_TRUE(fs::exists(file));
  EXPECT_NO_THROW(paw::PrefixState::load(file));
  EXPECT_FALSE(fs::exists(tmp)) << "the leftover temporary is removed";
}

}  // namespace

// --kv-type reaches the sessions: the prefix state written by an f32 run holds an F32 cache
// (an f16 run's holds F16), the answer of a case far from a near-tie is the same, and an
// unknown type is refused before anything runs.
TEST(RunCli, KvTypeF32RunsInExactMode) {
  const auto& fx = run_fixture();
  const json& c = fx.program("a")["cases"][1];
  for (const char* type : {"f16", "f32"}) {
    Cli cli;
    Result r = cli.run("run " + fx.paw_file() + " " + quote(c["input"].get<std::string>()) + " --kv-type " + type + " " +
                       model_flags());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, c["output"].get<std::string>() + "\n") << type;
    std::string file;
    for (const auto& e : fs::recursive_directory_iterator(cli.cache + "/programs"))
      if (e.path().filename() == "prefix_kv_cache.bin") file = e.path().string();
    ASSERT_FALSE(file.empty()) << type;
    EXPECT_EQ(paw::PrefixState::load(file).kv_type, std::string(type) == "f32" ? paw::DType::F32 : paw::DType::F16);
  }
  Cli cli;
  Result bad = cli.run("run " + fx.paw_file() + " x --kv-type q8_0 " + model_flags());
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("--kv-type"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(cli.cache + "/programs"));
}
