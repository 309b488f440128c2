// The libtorch compiler against the native compile: the same compiler file gives the same
// coefficients and adapters on both sides (fixture compilers written by paw-fixture from the
// documented layout, and a compiler exported by the trainer); a short compiler training run
// lowers nothing it should not, resumes bit for bit, and exports a file `paw compile` reads.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <nlohmann/json.hpp>

#include "paw/compiler/compiler.hpp"
#include "paw/compiler/format.hpp"
#include "paw/data/generator.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/train/compiler_net.hpp"
#include "paw/train/gguf_io.hpp"
#include "paw/train/recipe.hpp"
#include "paw/util/error.hpp"
#include "paw/util/sha256.hpp"
#include "train/compiler_batch.hpp"
#include "train_test_util.hpp"

namespace paw {
namespace {

using json = nlohmann::json;
const char* kSpec = "Answer yes if the input mentions a colour, else no.\n\nExamples:\nInput: a red car\nOutput: yes";

std::vector<int32_t> ids_for(const std::string& compiler_path, const compiler::Compiler& c, const std::string& spec) {
  const Tokenizer tok = Tokenizer::load(compiler_path);
  compiler::EncoderInputOptions eo;
  eo.eos_id = tok.eos_id().value_or(-1);
  eo.prefix_first_id = static_cast<int32_t>(c.info().prefix_first_id);
  eo.prefix_tokens = c.info().prefix_tokens;
  eo.max_tokens = c.info().encoder_n_ctx;
  eo.spec_conditioned = c.info().spec_conditioned;
  return compiler::encoder_input(tok, spec, compiler::normalize_spec(spec), eo);
}

// Torch coefficients [n_coef] and adapters of one spec, in float.
std::vector<float> torch_coefficients(train::CompilerNetImpl& net, const std::vector<int32_t>& ids) {
  torch::NoGradGuard ng;
  std::vector<int64_t> v(ids.begin(), ids.end());
  const torch::Tensor tokens = torch::tensor(v, torch::kLong).unsqueeze(0);
  const torch::Tensor ends = torch::tensor(std::vector<int64_t>{static_cast<int64_t>(ids.size())}, torch::kLong);
  const torch::Tensor c = net.coefficients(tokens, ends).squeeze(0).contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

void expect_same_compile(const std::string& compiler_path) {
  const compiler::Compiler native = compiler::Compiler::open(compiler_path);
  train::CompilerNet net = train::load_compiler_gguf(compiler_path);
  const auto ids = ids_for(compiler_path, native, kSpec);
  const std::vector<float> cn = native.coefficients(kSpec), ct = torch_coefficients(*net, ids);
  ASSERT_EQ(cn.size(), ct.size());
  float scale = 0;
  for (float v : cn) scale = std::max(scale, std::fabs(v));
  ASSERT_GT(scale, 0.0f);
  for (size_t i = 0; i < cn.size(); ++i) EXPECT_NEAR(cn[i], ct[i], 1e-4f * scale) << "coefficient " << i;
  // Adapters from the same coefficients: bases and layout agree.
  const auto pn = native.adapter_weights(cn);
  torch::NoGradGuard ng;
  const train::LoraSet set = net->adapters(torch::tensor(cn).unsqueeze(0));
  ASSERT_EQ(set.pairs.size(), pn.size());
  EXPECT_DOUBLE_EQ(set.alpha, native.info().alpha);
  for (const auto& [name, w] : pn) {
    const auto it = set.pairs.find(name);
    ASSERT_NE(it, set.pairs.end()) << name;
    const torch::Tensor a = it->second.a.squeeze(0).contiguous(), b = it->second.b.squeeze(0).contiguous();
    ASSERT_EQ(a.numel(), static_cast<int64_t>(w.a.size())) << name;
    ASSERT_EQ(b.numel(), static_cast<int64_t>(w.b.size())) << name;
    const float* pa = a.data_ptr<float>();
    const float* pb = b.data_ptr<float>();
    for (size_t i = 0; i < w.a.size(); ++i) ASSERT_NEAR(pa[i], w.a[i], 1e-5f + 1e-5f * std::fabs(w.a[i])) << name;
    for (size_t i = 0; i < w.b.size(); ++i) ASSERT_NEAR(pb[i], w.b[i], 1e-5f + 1e-5f * std::fabs(w.b[i])) << name;
  }
}

// A compiler written by paw-fixture from the documented layout, with `extra` options.
std::string fixture_compiler(const std::string& extra = "") {
  const std::string interp = test::train_fixture("model --arch qwen3 --preset tiny --seed 1");
  const std::string enc = test::train_fixture("model --arch qwen3 --preset tiny-hd --seed 2");
  return test::train_fixture("compiler --encoder " + enc + " --interpreter " + interp +
                             " --prefix-tokens 4 --n-bases 3 --rank 32 --seed 3" + extra);
}

// A tiny interpreter and encoder for networks built in the test and exported.
struct ExportFixture {
  std::string interp_path = test::train_fixture("model --arch qwen3 --preset tiny --seed 1");
  std::string enc_path = test::train_fixture("model --arch qwen3 --preset tiny --seed 4");
  train::TorchModel interp = train::load_gguf_model(interp_path);
  Tokenizer tok = Tokenizer::load(enc_path);

  // A compiler network for `cc` with non-zero B bases (so that adapters are not all zero).
  train::CompilerNet net(const train::CompilerConfig& cc) const {
    train::CompilerNet n(train::load_gguf_model(enc_path), tok.n_vocab(), *interp, cc, 5);
    torch::NoGradGuard ng;
    for (auto& kv : n->named_parameters())
      if (kv.key().find("_b") != std::string::npos && kv.value().dim() == 3) kv.value().normal_(0.0, 0.1);
    return n;
  }
  // The encoder's pooled prefix states [N, d] of a few specs, as the trainer's standardisation
  // and router calibration see them (random features with a large common part would have the
  // export's folding amplify float rounding far beyond what real specs give).
  torch::Tensor real_pooled(train::CompilerNet net) const {
    torch::NoGradGuard ng;
    compiler::EncoderInputOptions eo;
    eo.eos_id = tok.eos_id().value_or(-1);
    eo.prefix_first_id = static_cast<int32_t>(net->prefix_first_id());
    eo.prefix_tokens = net->config().prefix_tokens;
    eo.max_tokens = net->encoder()->hparams().n_ctx_train;
    std::vector<torch::Tensor> rows;
    for (const char* spec : {kSpec, "Reverse the order of the words.", "Extract the order id (like AB-123) or say none.",
                             "Is the review positive or negative?", "Convert the date to YYYY-MM-DD.",
                             "Route the message to billing, tech or sales."}) {
      const auto ids = compiler::encoder_input(tok, spec, compiler::normalize_spec(spec), eo);
      const torch::Tensor t = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
      rows.push_back(net->pooled(t, torch::tensor(std::vector<int64_t>{static_cast<int64_t>(ids.size())}, torch::kLong)));
    }
    return torch::cat(rows);  // [6, d]
  }
  // Exports `net`, checks that the native side computes its coefficients (`tol` relative to
  // 1 + |c|) and adapters, and returns the file.
  std::string export_and_check(train::CompilerNet net, const std::string& name, float tol) const {
    const std::string path = test::scratch_dir(name) + "/c.gguf";
    const train::InterpreterPin pin{"interp.gguf", sha256_file_hex(interp_path), std::filesystem::file_size(interp_path)};
    train::export_compiler_gguf(*net, tok, pin, *interp, name, path);
    const compiler::Compiler native = compiler::Compiler::open(path);
    EXPECT_EQ(native.info().interp_sha256, pin.sha256);
    const std::vector<float> cn = native.coefficients(kSpec), ct = torch_coefficients(*net, ids_for(path, native, kSpec));
    EXPECT_EQ(cn.size(), ct.size());
    for (size_t i = 0; i < std::min(cn.size(), ct.size()); ++i) EXPECT_NEAR(cn[i], ct[i], tol * (1 + std::fabs(ct[i]))) << i;
    expect_same_compile(path);
    return path;
  }
};

TEST(TrainCompiler, FixtureCompilerGivesTheNativeCoefficientsAndAdapters) { expect_same_compile(fixture_compiler()); }

TEST(TrainCompiler, ExportedCompilerReadsBackNativelyWithTheSameCoefficients) {
  const ExportFixture fx;
  train::CompilerConfig cc;
  cc.prefix_tokens = 3;
  cc.n_bases = 2;
  cc.rank = 32;
  cc.modules = {"q", "v", "down"};
  train::CompilerNet net = fx.net(cc);
  // A standardised mapper input (large common part, small spread, as real pooled states have):
  // the export folds it into fc1, so the native side must compute the same coefficients.
  const int64_t d = net->encoder()->hparams().n_embd;
  net->set_feature_standardisation(torch::randn({6, d}) * 0.05 + torch::randn({1, d}) * 3.0);
  const std::string path = fx.export_and_check(net, "compiler-export", 1e-4f);
  const compiler::Compiler native = compiler::Compiler::open(path);
  EXPECT_EQ(native.info().modules, (std::vector<std::string>{"down", "q", "v"}));
  EXPECT_EQ(native.info().encoder_layers, compiler::depth_ratio_layers(3, 3));
  EXPECT_EQ(native.info().coef_activation, compiler::CoefActivation::Linear);
  EXPECT_NO_THROW(native.check_interpreter(fx.interp_path));
}

TEST(TrainCompiler, SoftmaxFixtureCompilerGivesTheNativeCoefficientsAndAdapters) {
  const std::string comp = fixture_compiler(" --coef-activation softmax");
  const train::CompilerNet net = train::load_compiler_gguf(comp);
  EXPECT_EQ(net->config().coef_activation, compiler::CoefActivation::Softmax);
  expect_same_compile(comp);
}

// Softmax routing: the router calibration sets the logits' spread across specs, the export
// says "softmax" and the native side computes the same routed coefficients.
TEST(TrainCompiler, SoftmaxRouterIsCalibratedAndExportsWhatTheNativeSideComputes) {
  const ExportFixture fx;
  train::CompilerConfig cc;
  cc.prefix_tokens = 3;
  cc.n_bases = 4;
  cc.rank = 32;
  cc.modules = {"q", "down"};
  cc.coef_activation = compiler::CoefActivation::Softmax;
  cc.router_logit_std = 1.5;
  train::CompilerNet net = fx.net(cc);
  const torch::Tensor pooled = fx.real_pooled(net);  // [6, d]
  net->set_feature_standardisation(pooled);
  EXPECT_GT(net->calibrate_router(pooled), 0.0);
  {
    // The logits' spread, recomputed here from the parameters: mean over logits of the std across specs.
    torch::NoGradGuard ng;
    const auto p = net->named_parameters();
    const auto b = net->named_buffers();
    const torch::Tensor x = (pooled - b["feat_mean"]) * b["feat_scale"];
    const torch::Tensor h = torch::gelu(x.matmul(p["fc1_w"].t()) + p["fc1_b"]);
    const torch::Tensor logits = h.matmul(p["fc2_w"].t()) + p["fc2_b"];
    EXPECT_NEAR(logits.std(0, false).mean().item<double>(), 1.5, 1e-4);
    EXPECT_EQ(p["fc2_b"].abs().max().item<float>(), 0.0f);  // no basis preferred before training
  }
  const std::string path = fx.export_and_check(net, "compiler-export-softmax", 1e-5f);
  EXPECT_EQ(compiler::Compiler::open(path).info().coef_activation, compiler::CoefActivation::Softmax);
}

// A random program for the q and down linears of `fx`'s interpreter (rank 32), from `seed`.
std::map<std::string, LoraWeights> random_program(const ExportFixture& fx, uint64_t seed) {
  torch::manual_seed(seed);
  std::map<std::string, LoraWeights> program;
  for (const auto& ls : fx.interp->linears()) {
    if (ls.layer < 0 || (ls.kind != "q" && ls.kind != "down")) continue;
    LoraWeights w;
    w.rank = 32;
    w.n_in = ls.n_in;
    w.n_out = ls.n_out;
    const torch::Tensor a = torch::randn({w.rank * w.n_in}), b = torch::randn({w.n_out * w.rank});
    w.a.assign(a.data_ptr<float>(), a.data_ptr<float>() + a.numel());
    w.b.assign(b.data_ptr<float>(), b.data_ptr<float>() + b.numel());
    program["blk." + std::to_string(ls.layer) + "." + compiler::module_tensor(ls.kind) + ".weight"] = w;
  }
  return program;
}

// Experts routing: every expert starts as the given program, so every spec's adapter is that
// program; the export is a plain softmax compiler the native side computes identically.
TEST(TrainCompiler, ExpertsStartAsTheGivenProgramAndExportAsASoftmaxCompiler) {
  const ExportFixture fx;
  train::CompilerConfig cc;
  cc.prefix_tokens = 3;
  cc.rank = 32;
  cc.modules = {"q", "down"};
  cc.coef_activation = compiler::CoefActivation::Softmax;
  cc.n_experts = 3;
  train::CompilerNet net = fx.net(cc);
  const int64_t L = net->n_interp_layers();
  ASSERT_EQ(net->config().n_bases, L * 3);
  // A program: one random LoRA per interpreter linear of the two modules.
  const std::map<std::string, LoraWeights> program = random_program(fx, 10);
  ASSERT_EQ(program.size(), static_cast<size_t>(2 * L));
  net->init_experts(program);
  const torch::Tensor pooled = fx.real_pooled(net);  // [6, d]
  net->set_feature_standardisation(pooled);
  net->calibrate_router(pooled);

  const compiler::Compiler native = compiler::Compiler::open(fx.export_and_check(net, "compiler-export-experts", 1e-5f));
  EXPECT_EQ(native.info().coef_activation, compiler::CoefActivation::Softmax);
  EXPECT_EQ(native.info().n_bases, L * 3);
  const std::vector<float> cn = native.coefficients(kSpec);
  // Only layer l's block routes in layer l; each block is a distribution over the experts.
  const int64_t M = 2, NB = L * 3;
  for (int64_t l = 0; l < L; ++l)
    for (int64_t b = 0; b < NB; ++b) {
      const float v = cn[static_cast<size_t>(compiler::coef_index(l, 1, b, 0, M, NB))];
      if (b / 3 != l) {
        EXPECT_EQ(v, 0.0f) << l << " " << b;
      }
    }
  // Every spec's adapter is the starting program (the experts are equal, the weights sum to 1).
  const auto pairs = native.adapter_weights(cn);
  for (const auto& [name, w] : program) {
    const LoraWeights& got = pairs.at(name);
    for (size_t i = 0; i < w.a.size(); ++i) ASSERT_NEAR(got.a[i], w.a[i], 1e-4f * (1 + std::fabs(w.a[i]))) << name;
    for (size_t i = 0; i < w.b.size(); ++i) ASSERT_NEAR(got.b[i], w.b[i], 1e-4f * (1 + std::fabs(w.b[i]))) << name;
  }
  // The balance penalty reads the one routing: all specs on expert 0 gives n_experts - 1.
  torch::Tensor w = torch::zeros({4, L, M, L, 3, 2});
  for (int64_t l = 0; l < L; ++l) w.select(1, l).select(2, l).select(2, 0).fill_(1.0);
  EXPECT_NEAR(net->balance_penalty(w.view({4, -1})).item<double>(), 2.0, 1e-6);
}

TEST(TrainCompiler, EachExpertStartsAsItsOwnProgramAndFrozenBasesTakeNoGradient) {
  const ExportFixture fx;
  train::CompilerConfig cc;
  cc.prefix_tokens = 3;
  cc.modules = {"q", "down"};
  cc.coef_activation = compiler::CoefActivation::Softmax;
  cc.n_experts = 2;
  train::CompilerNet net = fx.net(cc);
  const auto p0 = random_program(fx, 11), p1 = random_program(fx, 12);
  net->init_expert(0, p0);
  net->init_expert(1, p1);
  EXPECT_THROW(net->init_expert(2, p0), Error);
  // Router logits that send spec 0 wholly to expert 0 and spec 1 to expert 1: each spec's
  // adapter is its expert's program (the softmax of a 60-logit gap is 1 in float).
  const torch::Tensor out = torch::tensor({30.0f, -30.0f, -30.0f, 30.0f}).view({2, 2});  // [S=2, E=2]
  const train::LoraSet set = net->adapters(net->coefficients_of(out));
  for (int s = 0; s < 2; ++s)
    for (const auto& [name, w] : s == 0 ? p0 : p1) {
      const torch::Tensor a = set.pairs.at(name).a[s].contiguous(), b = set.pairs.at(name).b[s].contiguous();
      for (size_t i = 0; i < w.a.size(); ++i) ASSERT_FLOAT_EQ(a.data_ptr<float>()[i], w.a[i]) << name << " " << s;
      for (size_t i = 0; i < w.b.size(); ++i) ASSERT_FLOAT_EQ(b.data_ptr<float>()[i], w.b[i]) << name << " " << s;
    }
  // Frozen bases: a backward pass through an adapter reaches the router but not the bases.
  net->freeze_bases();
  torch::Tensor logits = out.clone().set_requires_grad(true);
  const train::LoraSet g = net->adapters(net->coefficients_of(logits));
  torch::Tensor sum = torch::zeros({});
  for (const auto& kv : g.pairs) sum = sum + kv.second.a.pow(2).sum() + kv.second.b.pow(2).sum();
  sum.backward();
  EXPECT_TRUE(logits.grad().defined());
  for (const auto& kv : net->named_parameters())
    if (kv.key().rfind("bases_", 0) == 0) {
      EXPECT_FALSE(kv.value().requires_grad()) << kv.key();
      EXPECT_FALSE(kv.value().grad().defined()) << kv.key();
    }
}

TEST(TrainCompiler, BalancePenaltyIsZeroForEvenUseAndMaximalForOneBasis) {
  const ExportFixture fx;
  train::CompilerConfig cc;
  cc.prefix_tokens = 2;
  cc.n_bases = 4;
  cc.modules = {"q"};
  cc.coef_activation = compiler::CoefActivation::Softmax;
  const train::CompilerNet net = fx.net(cc);
  const int64_t NC = net->n_coefficients(), groups = NC / 8;
  // Four specs, each routing every group wholly to basis s: the batch uses the bases evenly.
  torch::Tensor even = torch::zeros({4, groups, 4, 2});
  for (int64_t s = 0; s < 4; ++s) even[s].select(1, s).fill_(1.0);
  EXPECT_NEAR(net->balance_penalty(even.view({4, NC})).item<double>(), 0.0, 1e-6);
  // All four on basis 0: the penalty is n_bases - 1.
  torch::Tensor one = torch::zeros({4, groups, 4, 2});
  one.select(2, 0).fill_(1.0);
  EXPECT_NEAR(net->balance_penalty(one.view({4, NC})).item<double>(), 3.0, 1e-6);
}

json compiler_recipe(const std::string& dir, int64_t steps) {
  return {{"name", "ctest"},
          {"seed", 3},
          {"threads", 1},
          {"mode", "compiler"},
          {"steps", steps},
          {"log_every", 1},
          {"checkpoint_every", 2},
          {"checkpoint_dir", dir},
          {"data", {{"source", "generator"}, {"seed", 1}, {"n_train", 64}, {"n_heldout_params", 8},
                    {"n_heldout_family", 0}, {"max_spec_chars", 1000}}},
          {"eval", {{"every", steps}, {"n", 8}, {"split", "heldout_params"}}},
          {"tokenizer", {{"path", test::source_dir() + "/models/trained/S.gguf"}}},
          {"compiler", {{"interpreter", test::source_dir() + "/models/trained/S.gguf"}, {"prefix_tokens", 4},
                        {"n_bases", 2}, {"rank", 32}, {"cases_per_spec", 2}, {"feature_norm_specs", 6}}},
          {"optim", {{"lr", 1e-3}, {"min_lr", 1e-4}, {"warmup_steps", 1}}},
          {"batch", {{"batch_size", 2}, {"seq_len", 400}}},
          {"export", {{"path", dir + "/C.gguf"}}}};
}

train::RunOptions quiet_run(int64_t max_steps = -1, bool resume = false) {
  train::RunOptions o;
  o.progress = false;
  o.max_steps = max_steps;
  o.resume = resume;
  return o;
}

TEST(TrainCompiler, ShortRunResumesBitForBitAndExportsACompilerPawCompiles) {
  const std::string base = test::scratch_dir("compiler-train");
  const train::RunResult a = train::run_recipe(train::parse_recipe(compiler_recipe(base + "/a", 4)), quiet_run());
  ASSERT_EQ(a.losses.size(), 4u);
  for (double l : a.losses) EXPECT_TRUE(std::isfinite(l) && l > 0);
  ASSERT_EQ(a.eval_losses.size(), 1u);
  EXPECT_TRUE(std::isfinite(a.eval_losses[0]));

  const train::Recipe split = train::parse_recipe(compiler_recipe(base + "/b", 4));
  const train::RunResult b1 = train::run_recipe(split, quiet_run(2));
  EXPECT_THROW(train::run_recipe(split, quiet_run()), Error);  // no silent overwrite
  const train::RunResult b2 = train::run_recipe(split, quiet_run(-1, true));
  ASSERT_EQ(b2.losses.size(), 2u);
  EXPECT_EQ(b1.losses[0], a.losses[0]);
  EXPECT_EQ(b1.losses[1], a.losses[1]);
  EXPECT_EQ(b2.losses[0], a.losses[2]);
  EXPECT_EQ(b2.losses[1], a.losses[3]);

  // The export is a compiler the native side opens, pins S.gguf, and compiles with.
  const compiler::Compiler c = compiler::Compiler::open(a.exported);
  EXPECT_NO_THROW(c.check_interpreter(test::source_dir() + "/models/trained/S.gguf"));
  EXPECT_EQ(c.info().interp_name, "S.gguf");
  const compiler::CompiledProgram p = c.compile(kSpec);
  EXPECT_FALSE(p.program_id.empty());
  expect_same_compile(a.exported);
}

TEST(TrainCompiler, SoftmaxRoutingRecipeTrainsAndExportsARoutingCompiler) {
  json j = compiler_recipe(test::scratch_dir("compiler-train-softmax"), 2);
  j["compiler"]["coef_activation"] = "softmax";
  j["compiler"]["balance_weight"] = 0.01;
  const train::RunResult a = train::run_recipe(train::parse_recipe(j), quiet_run());
  ASSERT_EQ(a.losses.size(), 2u);
  for (double l : a.losses) EXPECT_TRUE(std::isfinite(l) && l > 0);
  const compiler::Compiler c = compiler::Compiler::open(a.exported);
  EXPECT_EQ(c.info().coef_activation, compiler::CoefActivation::Softmax);
  // Calibrated routing: two specs of different tasks are routed differently.
  EXPECT_NE(c.coefficients(kSpec), c.coefficients("Reverse the order of the words in the input."));
  expect_same_compile(a.exported);
}

TEST(TrainCompiler, FamilyExpertsKeepTheirProgramsAndTheRouterLearnsEachSpecsFamily) {
  const std::string base = test::scratch_dir("compiler-train-family");
  // Two control compilers (one program each, different seeds) become the two experts.
  std::vector<std::string> controls;
  for (int seed : {3, 4}) {
    json c = compiler_recipe(base + "/control" + std::to_string(seed), 1);
    c["seed"] = seed;
    c["compiler"]["spec_conditioned"] = false;
    controls.push_back(train::run_recipe(train::parse_recipe(c), quiet_run()).exported);
  }
  json j = compiler_recipe(base + "/router", 24);
  j["data"]["families"] = {"sentiment", "date_norm"};
  j["compiler"]["coef_activation"] = "softmax";
  j["compiler"]["family_experts"] = {{"date_norm", controls[0]}, {"sentiment", controls[1]}};
  j["compiler"]["train_bases"] = false;
  j["optim"]["lr"] = 1e-2;
  const train::Recipe r = train::parse_recipe(j);
  const train::RunResult res = train::run_recipe(r, quiet_run());
  for (double l : res.losses) EXPECT_TRUE(std::isfinite(l) && l > 0);

  // The bases were not trained: expert e of layer l (basis l*E + e) is still control e's program.
  const train::CompilerNet net = train::load_compiler_gguf(res.exported);
  const int64_t E = 2, r32 = 32;
  ASSERT_EQ(net->config().n_bases, net->n_interp_layers() * E);
  const auto heads = net->head_tensors();
  for (int64_t e = 0; e < E; ++e) {
    const compiler::Compiler ctl = compiler::Compiler::open(controls[static_cast<size_t>(e)]);
    const auto program = ctl.adapter_weights(ctl.coefficients("(ignored)"));
    for (int64_t l = 0; l < net->n_interp_layers(); ++l) {
      const LoraWeights& w = program.at("blk." + std::to_string(l) + ".attn_q.weight");
      const torch::Tensor a = heads.at("compiler.bases.q.a").narrow(0, (l * E + e) * r32, r32).contiguous();  // [r, n_in]
      ASSERT_EQ(a.numel(), static_cast<int64_t>(w.a.size()));
      for (size_t i = 0; i < w.a.size(); ++i) ASSERT_EQ(a.data_ptr<float>()[i], w.a[i]) << e << " " << l;
    }
  }
  // The router sends held-out parameterisations of each family to that family's expert
  // (expert order = family names: 0 date_norm, 1 sentiment), as the native compile computes it.
  const compiler::Compiler c = compiler::Compiler::open(res.exported);
  const data::Generator gen(r.data.gen);
  const int64_t M = static_cast<int64_t>(c.info().modules.size()), NB = c.info().n_bases;
  int right = 0, n = 0;
  for (size_t i = 0; i < gen.count(data::Split::HeldoutParams); ++i) {
    const data::Record rec = gen.record(data::Split::HeldoutParams, i);
    const std::vector<float> coef = c.coefficients(rec.spec);
    const float w_date = coef[static_cast<size_t>(compiler::coef_index(0, 0, 0, 0, M, NB))];
    const float w_sent = coef[static_cast<size_t>(compiler::coef_index(0, 0, 1, 0, M, NB))];
    EXPECT_NEAR(w_date + w_sent, 1.0f, 1e-4f);
    right += (rec.family == "date_norm") == (w_date > w_sent);
    ++n;
  }
  EXPECT_EQ(n, 8);
  EXPECT_EQ(right, n) << "held-out specs routed to their family's expert";

  // A spec-conditioned compiler cannot give an expert its starting program.
  json bad = j;
  bad["checkpoint_dir"] = base + "/bad";
  bad["compiler"]["family_experts"]["sentiment"] = res.exported;
  try {
    train::run_recipe(train::parse_recipe(bad), quiet_run());
    ADD_FAILURE() << "a spec-conditioned starting compiler was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("must come from a control compiler"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.where()).find(res.exported), std::string::npos) << e.where();
  }
}

TEST(TrainCompiler, SpecViewsAreTheInstructionOrTheExamplesAndFallBackToTheWholeSpec) {
  const std::string spec = "Answer yes or no.\n\nExamples:\nInput: hi\nOutput: no\n\nInput: ok?\nOutput: yes";
  EXPECT_EQ(train::spec_view(spec, 0), spec);
  EXPECT_EQ(train::spec_view(spec, 1), "Answer yes or no.");
  EXPECT_EQ(train::spec_view(spec, 2), "Examples:\nInput: hi\nOutput: no\n\nInput: ok?\nOutput: yes");
  EXPECT_EQ(train::spec_view("One line only.", 1), "One line only.");      // no blank line: whole
  EXPECT_EQ(train::spec_view("Head.\n\n\n", 2), "Head.\n\n\n");           // empty examples: whole
  EXPECT_EQ(train::spec_view("\n\nExamples: x", 1), "\n\nExamples: x");    // empty instruction: whole
  // Two partial views each drawn more than half the time would leave no room for the whole spec.
  json j = compiler_recipe(test::scratch_dir("compiler-views"), 1);
  j["compiler"]["spec_view_prob"] = 0.6;
  EXPECT_THROW(train::parse_recipe(j), Error);
}

TEST(TrainCompiler, RecipeErrorsNameTheKey) {
  json j = compiler_recipe(test::scratch_dir("compiler-recipe"), 2);
  j["compiler"].erase("interpreter");
  try {
    train::parse_recipe(j);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.where()).find("compiler.interpreter"), std::string::npos) << e.where();
  }
  j = compiler_recipe(test::scratch_dir("compiler-recipe2"), 2);
  j["compiler"]["n_basis"] = 3;  // typo
  EXPECT_THROW(train::parse_recipe(j), Error);
  j = compiler_recipe(test::scratch_dir("compiler-recipe3"), 2);
  j["compiler"]["coef_activation"] = "relu";
  try {
    train::parse_recipe(j);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.where()).find("coef_activation"), std::string::npos) << e.where();
  }
  for (const char* name : {"C", "C-control"}) {
    const train::Recipe r = train::load_recipe(test::source_dir() + "/train/recipes/" + name + ".json");
    EXPECT_EQ(r.mode, "compiler");
    EXPECT_EQ(r.compiler.spec_conditioned, std::string(name) == "C");
  }
  // Family experts: one expert per known family, the router needs the spec.
  j = compiler_recipe(test::scratch_dir("compiler-recipe4"), 2);
  j["compiler"]["coef_activation"] = "softmax";
  j["compiler"]["family_experts"] = {{"sentiment", "a.gguf"}, {"classify", "b.gguf"}};
  const train::Recipe fe = train::parse_recipe(j);
  EXPECT_EQ(fe.compiler.n_experts, 2);
  EXPECT_EQ(fe.compiler.family_experts.begin()->first, "classify");  // name order = expert order
  auto expect_error_at = [](const json& bad, const std::string& key) {
    try {
      train::parse_recipe(bad);
      ADD_FAILURE() << "no error for " << key;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.where()).find(key), std::string::npos) << e.where();
    }
  };
  json bad = j;
  bad["compiler"]["family_experts"]["sentimint"] = "c.gguf";
  expect_error_at(bad, "family_experts");
  bad = j;
  bad["compiler"]["n_experts"] = 3;
  expect_error_at(bad, "n_experts");
  bad = j;
  bad["compiler"]["spec_conditioned"] = false;
  expect_error_at(bad, "spec_conditioned");
  bad = j;
  bad["compiler"]["init_from"] = "c.gguf";
  expect_error_at(bad, "init_from");
  bad = j;
  bad["compiler"].erase("coef_activation");
  expect_error_at(bad, "n_experts");
  bad = j;
  bad["compiler"]["family_experts"] = json::object();
  expect_error_at(bad, "family_experts");
  // The shipped compiler's recipes: one expert recipe per family of CF's router, each on its
  // family alone from the same control program, and the control compacted to one expert.
  const train::Recipe cf = train::load_recipe(test::source_dir() + "/train/recipes/CF.json");
  EXPECT_EQ(cf.compiler.n_experts, 12);
  EXPECT_FALSE(cf.compiler.train_bases);
  EXPECT_GT(cf.compiler.spec_view_prob, 0.0);
  for (const auto& [fam, path] : cf.compiler.family_experts) {
    const train::Recipe fr = train::load_recipe(test::source_dir() + "/train/recipes/experts/F-" + fam + ".json");
    EXPECT_EQ(fr.exp.path, path) << fam;
    EXPECT_EQ(fr.data.gen.families, std::vector<std::string>{fam});
    EXPECT_FALSE(fr.compiler.spec_conditioned) << fam;
    EXPECT_EQ(fr.compiler.init_from, "models/trained/C-control-1k.gguf") << fam;
  }
  const train::Recipe compact = train::load_recipe(test::source_dir() + "/train/recipes/C4-control-compact.json");
  EXPECT_EQ(compact.compiler.n_experts, 1);
  EXPECT_FALSE(compact.compiler.train_bases);
  // The routing experiments' recipes (docs/TRAINING.md) parse, each with its control.
  for (const std::string name : {"C3", "C4", "C5", "C6"}) {
    const train::Recipe r = train::load_recipe(test::source_dir() + "/train/recipes/" + name + ".json");
    EXPECT_EQ(r.compiler.coef_activation, compiler::CoefActivation::Softmax) << name;
    EXPECT_TRUE(r.compiler.spec_conditioned) << name;
    EXPECT_EQ(r.compiler.n_experts, name == "C3" ? 0 : 6) << name;
    if (name == "C5") continue;  // its control is C4-control (nothing to calibrate without a spec)
    const train::Recipe c = train::load_recipe(test::source_dir() + "/train/recipes/" + name + "-control.json");
    EXPECT_FALSE(c.compiler.spec_conditioned) << name;
    EXPECT_EQ(c.steps, r.steps) << name;
    EXPECT_EQ(c.compiler.n_experts, r.compiler.n_experts) << name;
  }
}

}  // namespace
}  // namespace paw
