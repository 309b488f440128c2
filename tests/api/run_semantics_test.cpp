// paw::Program against the reference runtime's semantics, computed independently
// (tests/reference/run_fixture.py: HF tokenizer ids, float64 numpy forward with the Q4_0
// adapter, EOS-only greedy stop, Python detokenization and strip()). The interpreter uses the
// scalar (reference) kernels here so that float near-ties cannot flip a greedy choice; the
// SIMD kernels are checked against double precision in tests/ops.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "paw/paw.hpp"
#include "paw/program/program_bundle.hpp"
#include "common/run_fixture.hpp"
#include "common/test_env.hpp"

namespace {

using nlohmann::json;
using paw::test::run_fixture;

struct Logged {
  std::vector<std::string> lines;
  paw::ProgramOptions options(const std::string& cache) {
    paw::ProgramOptions o;
    o.cache_dir = cache;
    o.log = [this](std::string_view level, std::string_view msg) { lines.push_back(std::string(level) + ": " + std::string(msg)); };
    return o;
  }
  int count(const std::string& level) const {
    int n = 0;
    for (const auto& l : lines) n += l.rfind(level + ":", 0) == 0;
    return n;
  }
};

paw::Interpreter scalar_interpreter(const std::string& model, const std::string& cache) {
  paw::InterpreterOptions io;
  io.kernels = "scalar";
  io.cache_dir = cache;
  io.n_threads = 1;   // tests share 2 cores with others: no OpenMP spinning
  return paw::Interpreter::open(model, io);
}

void expect_case(const paw::Program& p, const json& c, int64_t max_tokens, const std::string& label) {
  const std::string input = c["input"].get<std::string>();
  paw::RunOptions ro;
  ro.max_tokens = max_tokens;
  paw::RunResult r = p.run(input, ro);
  EXPECT_EQ(r.prefix_tokens, c["prefix_tokens"].get<int64_t>()) << label << " input '" << input << "'";
  EXPECT_EQ(r.input_tokens, c["input_tokens"].get<int64_t>()) << label << " input '" << input << "'";
  EXPECT_EQ(r.ids, c["ids"].get<std::vector<int32_t>>()) << label << " input '" << input << "'";
  EXPECT_EQ(r.output, c["output"].get<std::string>()) << label << " input '" << input << "'";
  EXPECT_EQ(r.stopped_at_eos, c["stopped_at_eos"].get<bool>()) << label << " input '" << input << "'";
}

TEST(RunSemantics, BundleFoldersMatchTheReference) {
  const auto& fx = run_fixture();
  const std::string cache = paw::test::scratch_dir("run-sem-folders");
  auto interp = scalar_interpreter(fx.model(), cache);
  Logged log;
  for (const char* name : {"a", "b"}) {   // a: v4 meta, rank 64; b: v3 meta, rank 32
    auto prog = paw::Program::open(fx.program_dir(name), interp, log.options(cache));
    EXPECT_EQ(prog.id(), fx.program(name)["id"].get<std::string>());
    EXPECT_EQ(prog.prefix_tokens(), static_cast<int64_t>(fx.program(name)["prefix_ids"].size()));
    EXPECT_EQ(prog.interpreter_name(), "Qwen/Qwen3-0.6B");
    for (const json& c : fx.program(name)["cases"]) expect_case(prog, c, fx.max_tokens(), name);
  }
}

TEST(RunSemantics, PawFileAndCachedIdsMatchTheReference) {
  const auto& fx = run_fixture();
  const std::string cache = paw::test::scratch_dir("run-sem-paw");
  auto interp = scalar_interpreter(fx.model(), cache);
  Logged log;
  const json& a = fx.program("a");
  const std::string id = a["id"].get<std::string>();
  auto from_zip = paw::Program::open(fx.paw_file(), interp, log.options(cache));
  for (const json& c : a["cases"]) expect_case(from_zip, c, fx.max_tokens(), ".paw");
  // The .paw was imported into the cache implicitly; its id and an id prefix now open it.
  ASSERT_NE(from_zip.bundle(), nullptr);
  EXPECT_EQ(from_zip.bundle()->cache_dir, cache + "/programs/" + id);
  for (const std::string& ref : {id, id.substr(0, 8)}) {
    auto cached = paw::Program::open(ref, interp, log.options(cache));
    EXPECT_EQ(cached.prefix_source(), paw::PrefixSource::Disk) << "the first open wrote prefix_kv_cache.bin";
    expect_case(cached, a["cases"][0], fx.max_tokens(), "cached " + ref);
    expect_case(cached, a["cases"][3], fx.max_tokens(), "cached " + ref);
  }
}

TEST(RunSemantics, BaseModeMatchesTheReference) {
  const auto& fx = run_fixture();
  const std::string cache = paw::test::scratch_dir("run-sem-base");
  auto interp = scalar_interpreter(fx.model(), cache);
  auto base = paw::Program::base(interp);
  EXPECT_TRUE(base.is_base());
  EXPECT_EQ(base.prefix_tokens(), 0);
  EXPECT_EQ(base.interpreter_name(), "Qwen/Qwen3-0.6B");
  for (const json& c : fx.expected["base"]) expect_case(base, c, fx.max_tokens(), "base");
  EXPECT_EQ(paw::base_prompt_template("gpt2"), "{INPUT_PLACEHOLDER}");
  EXPECT_THROW(paw::base_prompt_template("llama"), paw::Error);
}

TEST(RunSemantics, StopsAtTheEosIdOnlyNotAtOtherEndOfGenerationIds) {
  // model_eos.gguf: the same weights with tokenizer.ggml.eos_token_id = a token program a
  // generates for its first input (3rd or later) and eot_token_id = the 2nd (an
  // end-of-generation id llama.cpp would stop at; the reference does not).
  const auto& fx = run_fixture();
  const json& e = fx.expected["eos_patched"];
  const std::string cache = paw::test::scratch_dir("run-sem-eos");
  auto interp = scalar_interpreter(e["model"].get<std::string>(), cache);
  EXPECT_EQ(interp.eos_id(), e["eos"].get<int32_t>());
  Logged log;
  auto prog = paw::Program::open(fx.program_dir("a"), interp, log.options(cache));
  paw::RunResult r = prog.run(fx.program("a")["cases"][0]["input"].get<std::string>());   // no token limit
  EXPECT_TRUE(r.stopped_at_eos);
  EXPECT_EQ(r.output, e["output"].get<std::string>());
  EXPECT_EQ(r.ids, e["ids"].get<std::vector<int32_t>>());
  EXPECT_GE(r.ids.size(), 2u) << "the EOT id (2nd token) must not stop generation";
}

TEST(RunSemantics, MaxTokensAndTheContextLimit) {
  const auto& fx = run_fixture();
  const std::string cache = paw::test::scratch_dir("run-sem-limits");
  auto interp = scalar_interpreter(fx.model(), cache);
  Logged log;
  const json& c = fx.program("a")["cases"][1];
  const std::string input = c["input"].get<std::string>();
  auto prog = paw::Program::open(fx.program_dir("a"), interp, log.options(cache));
  EXPECT_EQ(prog.n_ctx(), 2048);   // the manifest's n_ctx
  for (int64_t k : {0, 1, 3}) {
    paw::RunOptions ro;
    ro.max_tokens = k;
    paw::RunResult r = prog.run(input, ro);
    EXPECT_EQ(r.ids.size(), static_cast<size_t>(k));
    EXPECT_EQ(r.output, c["outputs_after"][k].get<std::string>()) << "max_tokens " << k;
    EXPECT_FALSE(r.stopped_at_eos);
  }
  // A context of prefix + input + 5 tokens leaves room for exactly 5 generated tokens.
  auto opts = log.options(cache);
  const int64_t used = c["prefix_tokens"].get<int64_t>() + c["input_tokens"].get<int64_t>();
  opts.n_ctx = used + 5;
  auto small = paw::Program::open(fx.program_dir("a"), interp, opts);
  paw::RunResult r = small.run(input);
  EXPECT_EQ(r.ids.size(), 5u);
  EXPECT_EQ(r.output, c["outputs_after"][5].get<std::string>());
  // Exactly full: no room to generate is an overflow, as in the reference.
  opts.n_ctx = used;
  auto full = paw::Program::open(fx.program_dir("a"), interp, opts);
  EXPECT_THROW(full.run(input), paw::Error);
}

TEST(RunSemantics, ContextOverflowIsAnErrorRaisedBeforeAnyEvaluation) {
  const auto& fx = run_fixture();
  const std::string cache = paw::test::scratch_dir("run-sem-overflow");
  auto interp = scalar_interpreter(fx.model(), cache);
  Logged log;
  auto prog = paw::Program::open(fx.program_dir("a"), interp, log.options(cache));
  const json& ov = fx.program("a")["overflow"];
  const uint64_t before = interp.evaluated_tokens();
  try {
    prog.run(ov["input"].get<std::string>());
    ADD_FAILURE() << "expected a context overflow error";
  } catch (const paw::Error& e) {
    const std::string msg = e.what();
    const int64_t n_prefix = static_cast<int64_t>(fx.program("a")["prefix_ids"].size());
    const int64_t n_input = ov["input_tokens"].get<int64_t>();
    EXPECT_NE(msg.find("context overflow"), std::string::npos) << msg;
    EXPECT_NE(msg.find("prefix " + std::to_string(n_prefix)), std::string::npos) << msg;
    EXPECT_NE(msg.find("input " + std::to_string(n_input)), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string(n_prefix + n_input) + " tokens"), std::string::npos) << msg;
    EXPECT_NE(msg.find("2048"), std::string::npos) << msg;
  }
  EXPECT_EQ(interp.evaluated_tokens(), before) << "nothing may be evaluated for an overflowing input";
  // The program is still usable and still right.
  expect_case(prog, fx.program("a")["cases"][0], fx.max_tokens(), "after overflow");
}

TEST(RunSemantics, SamplingIsSeeded) {
  const auto& fx = run_fixture();
  const std::string cache = paw::test::scratch_dir("run-sem-sampling");
  auto interp = scalar_interpreter(fx.model(), cache);
  Logged log;
  auto prog = paw::Program::open(fx.program_dir("b"), interp, log.options(cache));
  paw::RunOptions ro;
  ro.max_tokens = 6;
  ro.temperature = 1.5f;
  ro.seed = 1;
  const auto a1 = prog.run("server down", ro).ids;
  const auto a2 = prog.run("server down", ro).ids;
  ro.seed = 2;
  const auto b1 = prog.run("server down", ro).ids;
  EXPECT_EQ(a1, a2);
  EXPECT_NE(a1, b1);
  EXPECT_EQ(a1.size(), 6u);
}

TEST(RunSemantics, TrimIsPythonStrip) {
  // Expected values are Python's str.strip() of the same strings.
  EXPECT_EQ(paw::trim_output(" \t\n x y \r\n"), "x y");
  EXPECT_EQ(paw::trim_output("\xc2\xa0x\xe3\x80\x80"), "x");             // U+00A0, U+3000
  EXPECT_EQ(paw::trim_output("\x1c\x1fx\xe2\x80\xa8\xe2\x80\xaf"), "x");  // \x1c, \x1f, U+2028, U+202F
  EXPECT_EQ(paw::trim_output("\xe2\x80\x8bx\xe2\x80\x8b"), "\xe2\x80\x8bx\xe2\x80\x8b");  // U+200B is not whitespace
  EXPECT_EQ(paw::trim_output("\xef\xbf\xbd \xef\xbf\xbd "), "\xef\xbf\xbd \xef\xbf\xbd");  // U+FFFD kept
  EXPECT_EQ(paw::trim_output("  "), "");
  EXPECT_EQ(paw::trim_output("\xff x"), "\xff x");   // malformed bytes are not whitespace
}

TEST(RunSemantics, OtherBaseWarnsOnceAndAMismatchedBaseIsAnError) {
  const auto& fx = run_fixture();
  const std::string cache = paw::test::scratch_dir("run-sem-otherbase");
  auto interp = scalar_interpreter(fx.model(), cache);
  Logged log;
  auto prog = paw::Program::open(fx.program_dir("a"), interp, log.options(cache));
  EXPECT_TRUE(prog.runs_on_other_base());
  ASSERT_EQ(log.count("warning"), 1);
  EXPECT_NE(log.lines[0].find("qwen3-0.6b-q6_k.gguf"), std::string::npos) << log.lines[0];

  // Architecture differs (GPT-2) / shapes differ (head_dim 128): refused, naming the program.
  const std::string tool = paw::test::tool_path("paw-fixture");
  const std::string gpt2 = cache + "/gpt2.gguf", hd = cache + "/tiny-hd.gguf";
  ASSERT_EQ(paw::test::run_command(tool + " model --arch gpt2 --preset tiny -o " + gpt2), 0);
  ASSERT_EQ(paw::test::run_command(tool + " model --arch qwen3 --preset tiny-hd -o " + hd), 0);
  for (const std::string& model : {gpt2, hd}) {
    paw::InterpreterOptions io;
    io.n_threads = 1;
    auto other = paw::Interpreter::open(model, io);
    try {
      paw::Program::open(fx.program_dir("a"), other, log.options(cache));
      ADD_FAILURE() << "a program must not attach to " << model;
    } catch (const paw::Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("compiled for Qwen/Qwen3-0.6B"), std::string::npos) << msg;
      EXPECT_NE(msg.find(model), std::string::npos) << msg;
    }
  }
}

}  // namespace

namespace {

TEST(RunSemantics, Gpt2BaseModeUsesTheBareInputAndItsPositionCap) {
  const std::string dir = paw::test::scratch_dir("run-sem-gpt2");
  const std::string model = dir + "/gpt2.gguf";
  ASSERT_EQ(paw::test::run_command(paw::test::tool_path("paw-fixture") + " model --arch gpt2 --preset tiny -o " + model), 0);
  paw::InterpreterOptions io;
  io.cache_dir = dir;
  io.n_threads = 1;
  auto interp = paw::Interpreter::open(model, io);
  EXPECT_EQ(interp.n_ctx(), 128) << "GPT-2's learned positions cap the context (tiny preset: 128)";
  auto base = paw::Program::base(interp);
  EXPECT_EQ(base.interpreter_name(), "gpt2");
  EXPECT_EQ(base.n_ctx(), 128);
  const std::string input = "hello world";
  paw::RunResult r = base.run(input);
  // The bare input is the whole prompt.
  EXPECT_EQ(r.input_tokens, static_cast<int64_t>(interp.tokenizer().encode(input).size()));
  EXPECT_LE(static_cast<int64_t>(r.ids.size()), 128 - r.input_tokens);
  if (!r.stopped_at_eos) {
    EXPECT_EQ(static_cast<int64_t>(r.ids.size()), 128 - r.input_tokens) << "runs to the context limit";
  }
  std::string long_input;
  for (int i = 0; i < 200; ++i) long_input += " word";
  try {
    base.run(long_input);
    ADD_FAILURE() << "expected a context overflow";
  } catch (const paw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("context of 128 tokens"), std::string::npos) << e.what();
  }
  EXPECT_THROW(base.run(""), paw::Error) << "an empty rendered prompt has nothing to evaluate";
}

}  // namespace
