// Native compile against the independent float64 numpy reference (tests/reference/
// ref_compile.py, which uses ref_forward.py's own GGUF parser and Qwen3 forward), on random
// compilers written by paw-fixture from the documented layout; determinism; the control;
// errors for bad specs, wrong interpreters and damaged compiler files.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "paw/compiler/compiler.hpp"
#include "paw/compiler/format.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/tensor/quantize.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/util/error.hpp"
#include "common/compiler_fixture.hpp"
#include "common/test_env.hpp"

namespace paw::compiler {
namespace {

namespace fs = std::filesystem;

using Fixture = test::CompilerFixture;
const Fixture& fixture() { return test::compiler_fixture(); }

const char* kSpec =
    "Classify the urgency of a message: answer immediate or wait.\n\nExamples:\nInput: server down\n"
    "Output: immediate\nInput: lunch menu\nOutput: wait";

std::vector<int32_t> encoder_ids(const std::string& compiler_path, const Compiler& c, const std::string& spec) {
  const Tokenizer tok = Tokenizer::load(compiler_path);
  const CompilerInfo& ci = c.info();
  EncoderInputOptions eo;
  eo.eos_id = tok.eos_id().value_or(-1);
  eo.prefix_first_id = static_cast<int32_t>(ci.prefix_first_id);
  eo.prefix_tokens = ci.prefix_tokens;
  eo.max_tokens = ci.encoder_n_ctx;
  eo.spec_conditioned = ci.spec_conditioned;
  return encoder_input(tok, spec, normalize_spec(spec), eo);
}

nlohmann::json reference(const std::string& compiler_path, const std::vector<int32_t>& ids) {
  std::string tokens;
  for (int32_t t : ids) {
    if (!tokens.empty()) tokens += ',';
    tokens += std::to_string(t);
  }
  std::string out;
  const int rc = test::run_command(test::python() + " " + test::source_dir() + "/tests/reference/ref_compile.py --compiler " +
                                       compiler_path + " --tokens " + tokens,
                                   &out);
  EXPECT_EQ(rc, 0);
  return nlohmann::json::parse(out);
}

double max_abs(const nlohmann::json& a) {
  double m = 0;
  for (const auto& v : a) m = std::max(m, v.is_array() ? max_abs(v) : std::fabs(v.get<double>()));
  return m;
}

// Coefficients and A/B of `compiler_path` for kSpec against the numpy reference; returns the pairs.
std::map<std::string, LoraWeights> expect_matches_reference(const std::string& compiler_path) {
  const Compiler c = Compiler::open(compiler_path);
  const auto ids = encoder_ids(compiler_path, c, kSpec);
  EXPECT_EQ(ids.back(), c.info().prefix_first_id + c.info().prefix_tokens - 1);
  const nlohmann::json ref = reference(compiler_path, ids);

  const std::vector<float> coef = c.coefficients(kSpec);
  EXPECT_EQ(coef.size(), ref["coefficients"].size());
  if (coef.size() != ref["coefficients"].size()) return {};
  const double scale = max_abs(ref["coefficients"]);
  EXPECT_GT(scale, 0.1);
  for (size_t i = 0; i < coef.size(); ++i)
    EXPECT_NEAR(coef[i], ref["coefficients"][i].get<double>(), 2e-4 * scale) << "coefficient " << i;

  auto pairs = c.adapter_weights(coef);
  EXPECT_EQ(pairs.size(), ref["adapters"].size());
  for (const auto& [name, w] : pairs) {
    const auto& r = ref["adapters"][name];
    EXPECT_EQ(static_cast<int64_t>(r["a"].size()), w.rank) << name;
    EXPECT_EQ(static_cast<int64_t>(r["b"].size()), w.n_out) << name;
    if (static_cast<int64_t>(r["a"].size()) != w.rank || static_cast<int64_t>(r["b"].size()) != w.n_out) continue;
    const double sa = max_abs(r["a"]), sb = max_abs(r["b"]);
    for (int64_t i = 0; i < w.rank; ++i)
      for (int64_t j = 0; j < w.n_in; ++j)
        EXPECT_NEAR(w.a[static_cast<size_t>(i * w.n_in + j)], r["a"][i][j].get<double>(), 3e-4 * sa) << name;
    for (int64_t i = 0; i < w.n_out; ++i)
      for (int64_t j = 0; j < w.rank; ++j)
        EXPECT_NEAR(w.b[static_cast<size_t>(i * w.rank + j)], r["b"][i][j].get<double>(), 3e-4 * sb) << name;
  }
  return pairs;
}

TEST(NativeCompile, SoftmaxRoutingMatchesTheNumpyReference) {
  const Compiler c = Compiler::open(fixture().softmax);
  EXPECT_EQ(c.info().coef_activation, CoefActivation::Softmax);
  // Every (layer, module, A|B) group is a distribution over the bases.
  const std::vector<float> coef = c.coefficients(kSpec);
  const int64_t NB = c.info().n_bases, M = static_cast<int64_t>(c.info().modules.size());
  for (int64_t l = 0; l < c.info().interp_n_layer; ++l)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t ab = 0; ab < 2; ++ab) {
        double sum = 0;
        for (int64_t b = 0; b < NB; ++b) {
          const float v = coef[static_cast<size_t>(coef_index(l, m, b, ab, M, NB))];
          EXPECT_GE(v, 0.0f);  // a large logit gap may underflow the others to 0
          sum += v;
        }
        EXPECT_NEAR(sum, 1.0, 1e-5);
      }
  expect_matches_reference(fixture().softmax);
}

// An experts compiler written by paw-fixture: softmax over `n_bases` bases of the 3-layer
// interpreter, compiler.experts = `experts` (comma list).
std::string experts_compiler(const std::string& name, int n_bases, const std::string& experts,
                             const std::string& activation = "softmax") {
  const Fixture& f = fixture();
  const std::string out = test::scratch_dir("compiler_experts") + "/" + name + ".gguf";
  const std::string cmd = test::tool_path("paw-fixture") + " compiler --encoder " + f.encoder + " --interpreter " +
                          f.interp + " --prefix-tokens 4 --n-bases " + std::to_string(n_bases) +
                          " --rank 32 --seed 5 --coef-activation " + activation + " --experts " + experts + " -o " + out;
  if (test::run_command(cmd) != 0) throw std::runtime_error("fixture failed: " + cmd);
  return out;
}

TEST(NativeCompile, ExpertsCompilerNamesItsExpertsAndTheirRoutingWeights) {
  ASSERT_EQ(Compiler::open(fixture().softmax).info().interp_n_layer, 3);
  const Compiler c = Compiler::open(experts_compiler("two", 6, "dates,reviews"));
  EXPECT_EQ(c.info().experts, (std::vector<std::string>{"dates", "reviews"}));
  // The weights are layer 0's expert block of the first module's A coefficients (bases 0 and
  // 1), normalised over the experts.
  const std::vector<float> coef = c.coefficients(kSpec);
  const int64_t M = static_cast<int64_t>(c.info().modules.size());
  const double c0 = coef[static_cast<size_t>(coef_index(0, 0, 0, 0, M, 6))];
  const double c1 = coef[static_cast<size_t>(coef_index(0, 0, 1, 0, M, 6))];
  const std::vector<float> w = c.expert_weights(coef);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_NEAR(w[0], c0 / (c0 + c1), 1e-6);
  EXPECT_NEAR(w[1], c1 / (c0 + c1), 1e-6);
  // compile() names them, heaviest first.
  const auto routes = c.compile(kSpec).experts;
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_GE(routes[0].weight, routes[1].weight);
  for (const auto& r : routes) EXPECT_EQ(r.weight, w[r.name == "dates" ? 0 : 1]) << r.name;
  EXPECT_NE(routes[0].name, routes[1].name);
  // Other compilers have no experts.
  EXPECT_TRUE(Compiler::open(fixture().softmax).expert_weights(Compiler::open(fixture().softmax).coefficients(kSpec)).empty());

  // Bad names: a count that does not divide the bases per layer, repeats, a linear compiler.
  for (const auto& [file, want] :
       {std::pair{experts_compiler("three", 6, "a,b,c"), std::string("bases are not 3 interpreter layers")},
        std::pair{experts_compiler("repeat", 6, "a,a"), std::string("each expert once")},
        std::pair{experts_compiler("linear", 6, "a,b", "linear"), std::string("needs softmax")}}) {
    try {
      Compiler::open(file);
      ADD_FAILURE() << "accepted " << file;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
      EXPECT_NE(e.where().find(key::experts), std::string::npos) << e.where();
    }
  }
}

TEST(NativeCompile, CoefficientsAndAdaptersMatchTheNumpyReference) {
  const Fixture& f = fixture();
  const Compiler c = Compiler::open(f.compiler);
  EXPECT_EQ(c.info().coef_activation, CoefActivation::Linear);
  const auto ids = encoder_ids(f.compiler, c, kSpec);
  const auto pairs = expect_matches_reference(f.compiler);
  ASSERT_FALSE(pairs.empty());

  // The F32 adapter in the bundle holds the same numbers, in llama.cpp's layout.
  CompileOptions o;
  o.adapter_type = "f32";
  const CompiledProgram p = c.compile(kSpec, o);
  const GGUFFile g = GGUFFile::parse(p.bundle.adapter, "adapter.gguf");
  EXPECT_EQ(g.get_string("general.type"), "adapter");
  EXPECT_NEAR(g.get_f64("adapter.lora.alpha"), 16.0, 0);
  const GGUFTensorInfo* a = g.find_tensor("blk.2.ffn_down.weight.lora_a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->ne, (std::vector<int64_t>{512, 32}));  // [n_in, r]
  std::vector<float> row(512);
  dequantize_row(a->type, a->data, row.data(), 512);
  for (int j = 0; j < 512; ++j) EXPECT_FLOAT_EQ(row[static_cast<size_t>(j)], pairs.at("blk.2.ffn_down.weight").a[static_cast<size_t>(j)]);
  EXPECT_EQ(p.encoder_tokens, static_cast<int64_t>(ids.size()));
}

TEST(NativeCompile, SameSpecSameBytesAndIdDifferentSpecDifferentId) {
  const Fixture& f = fixture();
  const Compiler c = Compiler::open(f.compiler);
  const CompiledProgram a = c.compile(kSpec), b = Compiler::open(f.compiler).compile(kSpec);
  EXPECT_EQ(a.program_id, b.program_id);
  EXPECT_EQ(a.paw_bytes(), b.paw_bytes());
  const CompiledProgram other = c.compile(std::string(kSpec) + "\nInput: disk full\nOutput: immediate");
  EXPECT_NE(other.program_id, a.program_id);
  EXPECT_NE(other.bundle.adapter, a.bundle.adapter);
  // meta.json says what made the program.
  const auto meta = nlohmann::json::parse(a.bundle.meta_json);
  EXPECT_EQ(meta["version"], 4);
  EXPECT_EQ(meta["program_id"], a.program_id);
  EXPECT_EQ(meta["spec"], kSpec);
  EXPECT_EQ(meta["compiler_snapshot"], "paw-fixture compiler");
  EXPECT_EQ(meta["compiler_fingerprint"], c.info().fingerprint);
  EXPECT_EQ(meta["pseudo_program_strategy"], "spec");
  EXPECT_EQ(meta["lora_rank"], 32);
  EXPECT_EQ(meta["runtime"]["local_sdk"]["base_model"]["file"], "interp.gguf");
  EXPECT_EQ(meta["runtime"]["local_sdk"]["base_model"]["size_bytes"], fs::file_size(f.interp));
  EXPECT_EQ(a.bundle.prompt_template, render_template(prompted_template(), normalize_spec(kSpec)));
  EXPECT_EQ(a.bundle.adapter_arch, "qwen3");
}

TEST(NativeCompile, TheControlCompilerIgnoresTheSpec) {
  const Fixture& f = fixture();
  const Compiler ctl = Compiler::open(f.control);
  EXPECT_FALSE(ctl.info().spec_conditioned);
  EXPECT_EQ(ctl.coefficients(kSpec), ctl.coefficients("Reverse the words of the input."));
  const Compiler c = Compiler::open(f.compiler);
  EXPECT_NE(c.coefficients(kSpec), c.coefficients("Reverse the words of the input."));
}

TEST(NativeCompile, BadSpecsAreClearErrors) {
  const Compiler c = Compiler::open(fixture().compiler);
  for (const char* s : {"", "   \n\t  "}) {
    try {
      c.compile(s);
      FAIL() << "accepted an empty spec";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("spec is empty"), std::string::npos) << e.what();
    }
  }
  std::string huge;
  for (int i = 0; i < 400; ++i) huge += "Input: word" + std::to_string(i) + " Output: other\n";
  try {
    c.compile(huge);
    FAIL() << "accepted a spec longer than the encoder's context";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("too long"), std::string::npos) << m;
    EXPECT_NE(m.find("tokens"), std::string::npos) << m;
    EXPECT_NE(m.find(std::to_string(huge.size()) + " bytes"), std::string::npos) << m;
  }
  CompileOptions o;
  o.adapter_type = "q5_k";
  EXPECT_THROW(c.compile(kSpec, o), Error);
  o.adapter_type = "";
  o.pseudo_program_strategy = "model";
  EXPECT_THROW(c.compile(kSpec, o), Error);
}

TEST(NativeCompile, RefusesAnotherInterpreterAndDamagedFiles) {
  const Fixture& f = fixture();
  const Compiler c = Compiler::open(f.compiler);
  EXPECT_NO_THROW(c.check_interpreter(f.interp));
  try {
    c.check_interpreter(f.other_interp);
    FAIL() << "accepted another interpreter";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not the one this compiler was trained for"), std::string::npos) << e.what();
  }
  // A model file is not a compiler.
  try {
    Compiler::open(f.interp);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a compiler file"), std::string::npos) << e.what();
  }
  // Truncated, and a tensor's bytes turned into NaN.
  std::ifstream in(f.compiler, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  const std::string dir = test::scratch_dir("compiler_damaged");
  {
    std::ofstream(dir + "/cut.gguf", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    EXPECT_THROW(Compiler::open(dir + "/cut.gguf"), Error);
  }
  {
    const GGUFFile g = GGUFFile::open(f.compiler);
    const GGUFTensorInfo* t = g.find_tensor("mapper.fc2.bias");
    ASSERT_NE(t, nullptr);
    std::string bad = bytes;
    const float nan = std::nanf("");
    std::memcpy(&bad[t->file_offset], &nan, sizeof nan);
    std::ofstream(dir + "/nan.gguf", std::ios::binary) << bad;
    try {
      Compiler::open(dir + "/nan.gguf");
      FAIL();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("non-finite"), std::string::npos) << e.what();
    }
  }
  // An unknown coefficient activation (same length, so the file stays well formed) and a
  // format version from the future.
  {
    std::ifstream sin(f.softmax, std::ios::binary);
    std::string sm((std::istreambuf_iterator<char>(sin)), {});
    const std::string key = key::coef_activation;
    const size_t at = sm.find("softmax", sm.find(key));
    ASSERT_NE(at, std::string::npos);
    std::string bad = sm;
    bad.replace(at, 7, "sigmoid");
    std::ofstream(dir + "/act.gguf", std::ios::binary) << bad;
    try {
      Compiler::open(dir + "/act.gguf");
      FAIL();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("unknown coefficient activation 'sigmoid'"), std::string::npos) << e.what();
      EXPECT_NE(e.where().find(key), std::string::npos) << e.where();
    }
    bad = sm;
    const size_t v = bad.find(key::version) + std::string(key::version).size() + 4;  // key, then the u32 type
    const uint32_t future = kFormatVersion + 1;
    std::memcpy(&bad[v], &future, sizeof future);
    std::ofstream(dir + "/future.gguf", std::ios::binary) << bad;
    try {
      Compiler::open(dir + "/future.gguf");
      FAIL();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("is not supported"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace paw::compiler
