// The public compile API (paw/compile.hpp) and version (paw/version.hpp): a program compiled in
// memory answers like the same program written to a .paw file and opened from it; the file is
// a valid bundle naming the compiler; the interpreter check, the default compiler
// ($PAW_COMPILER) and bad specs; the version is the one CMakeLists.txt declares.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "paw/paw.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/compiler/program_case.hpp"
#include "paw/program/bundle.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "common/compiler_fixture.hpp"
#include "common/test_env.hpp"

namespace paw {
namespace {

// Interpreter, another of the same shape, and a compiler for the first (tests/common).
using Fixture = test::CompilerFixture;
const Fixture& fixture() { return test::compiler_fixture(); }

const char* kSpec = "Classify the urgency of a message: answer immediate or wait.";

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes a compiled program as p.paw in a fresh scratch folder `dir`; returns its path.
std::string write_to_scratch(const CompileResult& r, const std::string& dir) {
  const std::string file = test::scratch_dir(dir) + "/p.paw";
  r.write(file);
  return file;
}

TEST(CompileApi, ProgramInMemoryAnswersLikeTheWrittenFile) {
  const Fixture& f = fixture();
  const Compiler c = Compiler::open(f.compiler);
  const Interpreter interp = Interpreter::open(f.interp);
  const CompileResult r = c.compile(kSpec);
  const std::string file = write_to_scratch(r, "compile_api_write");
  ProgramOptions po;
  po.prefix_cache = false;
  const Program from_file = Program::open(file, interp, po);
  const Program in_memory = c.compile_program(kSpec, interp, {}, po);
  EXPECT_EQ(from_file.id(), r.program_id);
  EXPECT_EQ(in_memory.id(), r.program_id);
  for (const char* input : {"server down", "lunch menu", "", "the build is red again"}) {
    const RunResult a = from_file.run(input, {.max_tokens = 12});
    const RunResult b = in_memory.run(input, {.max_tokens = 12});
    EXPECT_EQ(a.ids, b.ids) << input;
    EXPECT_EQ(a.output, b.output) << input;
  }
  // The same spec again: the same bytes (content-addressed, deterministic).
  EXPECT_EQ(c.compile(kSpec).paw, r.paw);
}

TEST(CompileApi, WrittenFileIsABundleNamingTheCompiler) {
  const Fixture& f = fixture();
  const Compiler c = Compiler::open(f.compiler);
  const CompileResult r = c.compile(kSpec, {.adapter_type = "f32"});
  const std::string file = write_to_scratch(r, "compile_api_bundle");
  const std::string bytes = read_all(file);
  ASSERT_EQ(bytes.size(), r.paw.size());
  EXPECT_EQ(bytes.substr(0, 2), "PK");
  const Bundle b = read_bundle(file);
  ASSERT_TRUE(b.meta.program_id.has_value());
  EXPECT_EQ(*b.meta.program_id, r.program_id);
  EXPECT_EQ(b.meta.json.value("compiler_snapshot", std::string()), c.name());
  EXPECT_NE(b.prompt_template.find(r.pseudo_program), std::string::npos);
  EXPECT_FALSE(c.interpreter_sha256().empty());
  EXPECT_TRUE(c.spec_conditioned());
}

// The trainer, the finetune and the expert check score a program on compiler::encode_program_case;
// that is only right if it is what the runtime feeds for the same program and input.
TEST(CompileApi, ProgramCasesAreTokenizedAsTheRuntimeRunsThem) {
  const Fixture& f = fixture();
  const std::string file = write_to_scratch(Compiler::open(f.compiler).compile(kSpec), "compile_api_cases");
  const Bundle b = read_bundle(file);
  const TemplateParts parts = split_template(b.prompt_template, file);
  EXPECT_EQ(parts.prefix + kInputPlaceholder + parts.suffix, b.prompt_template);
  const Interpreter interp = Interpreter::open(f.interp);
  const Program prog = Program::open(file, interp);
  const Tokenizer tok = Tokenizer::load(f.interp);
  const int32_t eos = tok.eos_id().value_or(-1);
  ASSERT_GE(eos, 0);
  // Inputs whose last characters may merge with the suffix's first ones, and an empty input.
  for (const char* input : {"server down", "a\n", "", "x ", "[END_INPUT]"}) {
    const RunResult run = prog.run(input, {.max_tokens = 0});
    const compiler::ProgramCase pc = compiler::encode_program_case(tok, parts, input, "wait", eos);
    EXPECT_EQ(pc.n_prompt, run.prefix_tokens + run.input_tokens) << input;
    const compiler::ProgramCase tail = compiler::encode_case_after_prefix(tok, parts.suffix, input, "wait", eos);
    EXPECT_EQ(tail.n_prompt, run.input_tokens) << input;
    ASSERT_FALSE(pc.tokens.empty());
    EXPECT_EQ(pc.tokens.back(), eos);
    // The answer: "wait" encoded alone, then EOS; the whole case is the prefix, then the tail.
    const std::vector<int32_t> answer(pc.tokens.begin() + pc.n_prompt, pc.tokens.end() - 1);
    EXPECT_EQ(tok.decode(answer), "wait");
    ASSERT_EQ(pc.tokens.size(), static_cast<size_t>(run.prefix_tokens) + tail.tokens.size());
    EXPECT_TRUE(std::equal(tail.tokens.begin(), tail.tokens.end(), pc.tokens.begin() + run.prefix_tokens)) << input;
  }
  try {
    split_template("no placeholder here", "tmpl.txt");
    ADD_FAILURE() << "a template without the placeholder was split";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "tmpl.txt");
  }
  const TemplateParts two = split_template("a{INPUT_PLACEHOLDER}b{INPUT_PLACEHOLDER}", "t");
  EXPECT_EQ(two.prefix, "a");  // the first placeholder (validated templates have exactly one)
  EXPECT_EQ(two.suffix, "b{INPUT_PLACEHOLDER}");
}

TEST(CompileApi, RefusesAnotherInterpreterAndBadSpecs) {
  const Fixture& f = fixture();
  const Compiler c = Compiler::open(f.compiler);
  const Interpreter other = Interpreter::open(f.other_interp);
  EXPECT_THROW(c.check_interpreter(other), Error);
  EXPECT_THROW(c.compile_program(kSpec, other), Error);
  EXPECT_NO_THROW(c.check_interpreter(Interpreter::open(f.interp)));
  EXPECT_THROW(c.compile(""), Error);
  EXPECT_THROW(c.compile(" \n\t "), Error);
  EXPECT_THROW(c.compile(kSpec, {.adapter_type = "q3_k"}), Error);
  EXPECT_THROW(Compiler::open(f.dir + "/missing.gguf"), Error);
  EXPECT_THROW(Compiler::open(f.interp), Error);   // a model, not a compiler
}

TEST(CompileApi, DefaultCompilerComesFromPawCompiler) {
  const Fixture& f = fixture();
  const char* old = std::getenv("PAW_COMPILER");
  const std::string saved = old ? old : "";
  setenv("PAW_COMPILER", f.compiler.c_str(), 1);
  const Compiler c = Compiler::open();
  EXPECT_EQ(c.path(), f.compiler);
  if (old) setenv("PAW_COMPILER", saved.c_str(), 1); else unsetenv("PAW_COMPILER");
}

// KV bytes per token from the GGUF's own metadata: layers x (K + V rows) x the KV type's size.
TEST(CompileApi, AnExpertsCompilerSaysWhereTheSpecWasRouted) {
  const Fixture& f = fixture();
  const std::string file = test::scratch_dir("compile_api_experts") + "/experts.gguf";
  ASSERT_EQ(test::run_command(test::tool_path("paw-fixture") + " compiler --encoder " + f.encoder + " --interpreter " +
                              f.interp + " --prefix-tokens 4 --n-bases 6 --rank 32 --seed 7 --coef-activation softmax " +
                              "--experts dates,reviews -o " + file),
            0);
  const Compiler c = Compiler::open(file);
  // A spec with a worked example, for the check.
  const std::string spec = std::string(kSpec) + "\n\nInput: server down\nOutput: immediate";
  EXPECT_EQ(c.experts(), (std::vector<std::string>{"dates", "reviews"}));
  const CompileResult r = c.compile(spec);
  ASSERT_EQ(r.experts.size(), 2u);
  EXPECT_NE(r.experts[0].name, r.experts[1].name);
  EXPECT_GE(r.experts[0].weight, r.experts[1].weight);
  EXPECT_NEAR(r.experts[0].weight + r.experts[1].weight, 1.0, 1e-5);
  EXPECT_EQ(r.expert, r.experts[0].name);   // no interpreter to check with: the router's choice
  EXPECT_EQ(r.expert_chosen_by, "router");
  // Opted in, the spec's examples check the router on an interpreter; compile_program checks on
  // its own interpreter, and runs the same program compile() makes with check_with.
  const Interpreter interp = Interpreter::open(f.interp);
  CompileOptions o;
  o.expert_check = true;
  o.check_with = &interp;
  const CompileResult checked = c.compile(spec, o);
  EXPECT_TRUE(checked.expert_chosen_by == "router" || checked.expert_chosen_by == "examples") << checked.expert_chosen_by;
  if (checked.expert_chosen_by == "router") {
    EXPECT_EQ(checked.program_id, r.program_id);
  }
  EXPECT_EQ(c.compile_program(spec, interp, o).id(), checked.program_id);
  EXPECT_EQ(c.compile_program(spec, interp).id(), r.program_id);  // no check by default
  o.expert_check = false;
  EXPECT_EQ(c.compile(spec, o).program_id, r.program_id);
  // A forced expert, whatever the router and the check say.
  for (const std::string name : {"dates", "reviews"}) {
    CompileOptions forced;
    forced.expert = name;
    forced.check_with = &interp;
    const CompileResult p = c.compile(spec, forced);
    EXPECT_EQ(p.expert, name);
    EXPECT_EQ(p.expert_chosen_by, "option");
  }
  CompileOptions unknown;
  unknown.expert = "weather";
  EXPECT_THROW(c.compile(spec, unknown), Error);
  // An ordinary compiler routes nowhere.
  const Compiler plain = Compiler::open(f.compiler);
  EXPECT_TRUE(plain.experts().empty());
  EXPECT_TRUE(plain.compile(spec).experts.empty());
  EXPECT_TRUE(plain.compile(spec, o).expert.empty());
}

TEST(InterpreterApi, KvBytesPerTokenFollowsTheFileAndTheKvType) {
  const Fixture& f = fixture();
  const GGUFFile g = GGUFFile::open(f.interp);
  const auto key = [&](const char* k) { return g.find(std::string("qwen3.") + k)->as_i64(); };
  const int64_t n_head_kv = key("attention.head_count_kv");
  const int64_t row = n_head_kv * (key("attention.key_length") + key("attention.value_length"));
  const int64_t per_f32 = key("block_count") * row * 4;
  EXPECT_EQ(Interpreter::open(f.interp).kv_bytes_per_token() * 2, per_f32);   // F16 default
  EXPECT_EQ(Interpreter::open(f.interp, {.kv_type = DType::F32}).kv_bytes_per_token(), per_f32);
}

TEST(Version, IsTheProjectVersionOfCMakeLists) {
  const std::string cm = read_all(test::source_dir() + "/CMakeLists.txt");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(cm, m, std::regex(R"(project\(paw VERSION (\d+)\.(\d+)\.(\d+))")));
  const Version v = version();
  EXPECT_EQ(v.major, std::stoi(m[1]));
  EXPECT_EQ(v.minor, std::stoi(m[2]));
  EXPECT_EQ(v.patch, std::stoi(m[3]));
  EXPECT_EQ(version_string(), m[1].str() + "." + m[2].str() + "." + m[3].str());
}

}  // namespace
}  // namespace paw
