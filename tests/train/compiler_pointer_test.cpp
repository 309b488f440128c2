// The compiler's pointer channel (CompilerConfig::pointer_rank): a new channel leaves every
// program exactly as the bases make it; its slots are attention pools over the spec's own
// tokens only, centred or not (checked against a loop over positions, and blind to what
// follows the spec);
// with maps of its own, specs that differ get different programs; a recipe with it refuses an
// export (there is no file format for it).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "paw/compiler/compiler.hpp"
#include "paw/compiler/format.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/train/compiler_net.hpp"
#include "paw/train/gguf_io.hpp"
#include "paw/train/recipe.hpp"
#include "paw/util/error.hpp"
#include "paw/data/generator.hpp"
#include "train/compiler_batch.hpp"
#include "train_test_util.hpp"

namespace paw {
namespace {

struct PointerFixture {
  std::string interp_path = test::train_fixture("model --arch qwen3 --preset tiny --seed 1");
  std::string enc_path = test::train_fixture("model --arch qwen3 --preset tiny --seed 4");
  train::TorchModel interp = train::load_gguf_model(interp_path);
  Tokenizer tok = Tokenizer::load(enc_path);

  train::CompilerConfig config(int64_t pointer_rank) const {
    train::CompilerConfig cc;
    cc.prefix_tokens = 3;
    cc.n_bases = 4;
    cc.rank = 32;
    cc.modules = {"q", "down"};
    cc.pointer_rank = pointer_rank;
    return cc;
  }
  train::CompilerNet net(int64_t pointer_rank, bool centered = false) const {
    train::CompilerConfig cc = config(pointer_rank);
    cc.pointer_centered = centered;
    cc.pointer_query_std = centered ? 3.0 : 1.0;  // the defaults, and the first runs' setting
    return train::CompilerNet(train::load_gguf_model(enc_path), tok.n_vocab(), *interp, cc, 5);
  }
  // Encoder row [1, T] of a spec and its end [1].
  std::pair<torch::Tensor, torch::Tensor> row(const train::CompilerNetImpl& n, const std::string& spec) const {
    compiler::EncoderInputOptions eo;
    eo.eos_id = tok.eos_id().value_or(-1);
    eo.prefix_first_id = static_cast<int32_t>(n.prefix_first_id());
    eo.prefix_tokens = n.config().prefix_tokens;
    eo.max_tokens = n.encoder()->hparams().n_ctx_train;
    const auto ids = compiler::encoder_input(tok, spec, compiler::normalize_spec(spec), eo);
    return {torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0),
            torch::tensor(std::vector<int64_t>{static_cast<int64_t>(ids.size())}, torch::kLong)};
  }
};

// The weight change scale * B * A of every linear for spec row 0 of a set. [n_out, n_in] each
std::map<std::string, torch::Tensor> deltas(const train::LoraSet& set) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, t] : set.pairs)
    out[name] = torch::matmul(t.b[0], t.a[0]) * set.scale_for(t.a.size(1));
  return out;
}

const char* kSentiment = "Answer \"good\" or \"bad\". Treat 'blorp' as positive.";
const char* kRouting = "Route the message to billing, tech or sales. Reply with the team only.";

TEST(TrainCompilerPointer, NewChannelLeavesTheProgramAsTheBasesMakeIt) {
  const PointerFixture fx;
  train::CompilerNet plain = fx.net(0), ptr = fx.net(32);
  {
    // The same mapper and bases in both (B bases non-zero, so the programs are not zero).
    torch::NoGradGuard ng;
    torch::manual_seed(7);
    auto dst = ptr->named_parameters();
    for (auto& kv : plain->named_parameters()) {
      if (kv.key().rfind("bases_", 0) == 0 && kv.key().back() == 'b') kv.value().normal_(0.0, 0.1);
      dst[kv.key()].copy_(kv.value());
    }
  }
  torch::NoGradGuard ng;
  const auto [tokens, ends] = fx.row(*ptr, kSentiment);
  torch::Tensor slots;
  const torch::Tensor c = ptr->coefficients_of(ptr->mapper_outputs(tokens, ends, &slots));
  ASSERT_TRUE(slots.defined());
  EXPECT_EQ(slots.sizes(), (std::vector<int64_t>{1, 32, ptr->encoder()->hparams().n_embd}));
  const train::LoraSet with = ptr->adapters(c, slots);
  const train::LoraSet without = plain->adapters(plain->coefficients(tokens, ends));
  for (const auto& [name, t] : with.pairs) EXPECT_EQ(t.a.size(1), 64) << name;  // rank 32 + 32
  const auto dw = deltas(with), d0 = deltas(without);
  ASSERT_EQ(dw.size(), d0.size());
  for (const auto& [name, d] : d0) {
    EXPECT_GT(d.abs().max().item<double>(), 0.0) << name;
    EXPECT_TRUE(torch::allclose(dw.at(name), d, 1e-5, 1e-6)) << name;
  }
}

class PointerSlots : public ::testing::TestWithParam<bool> {};

// Param: pointer_centered (the slots minus the mean of the spec's states).
TEST_P(PointerSlots, PoolTheSpecsOwnTokensAndMakeProgramsDiffer) {
  const PointerFixture fx;
  const bool centered = GetParam();
  train::CompilerNet net = fx.net(32, centered);
  torch::NoGradGuard ng;
  const auto [tokens, ends] = fx.row(*net, kSentiment);
  torch::Tensor slots;
  net->mapper_outputs(tokens, ends, &slots);  // [1, R, d]

  // A loop over positions: the mean of the tapped states, RMS-normalised, pooled by softmax(h·q/√d).
  const auto taps = net->encoder()->forward_hidden(tokens, net->layers());
  torch::Tensor q;
  for (const auto& kv : net->named_parameters())
    if (kv.key() == "ptr_q") q = kv.value();
  ASSERT_TRUE(q.defined());
  const int64_t T = tokens.size(1), d = q.size(1);
  for (int64_t r : {0, 5, 31}) {
    std::vector<double> score(static_cast<size_t>(T));
    std::vector<torch::Tensor> h(static_cast<size_t>(T));
    double mx = -1e300;
    for (int64_t t = 0; t < T; ++t) {
      torch::Tensor s = torch::zeros({d}, torch::kDouble);
      for (const auto& tap : taps) s += tap[0][t].to(torch::kDouble);
      s /= static_cast<double>(taps.size());
      s /= std::sqrt(s.pow(2).mean().item<double>() + 1e-6);
      h[static_cast<size_t>(t)] = s;
      score[static_cast<size_t>(t)] = s.dot(q[r].to(torch::kDouble)).item<double>() / std::sqrt(double(d));
      mx = std::max(mx, score[static_cast<size_t>(t)]);
    }
    double z = 0;
    torch::Tensor want = torch::zeros({d}, torch::kDouble), mean = torch::zeros({d}, torch::kDouble);
    for (int64_t t = 0; t < T; ++t) z += std::exp(score[static_cast<size_t>(t)] - mx);
    for (int64_t t = 0; t < T; ++t) {
      want += h[static_cast<size_t>(t)] * (std::exp(score[static_cast<size_t>(t)] - mx) / z);
      mean += h[static_cast<size_t>(t)] / static_cast<double>(T);
    }
    if (centered) want -= mean;
    EXPECT_TRUE(torch::allclose(slots[0][r].to(torch::kDouble), want, 1e-4, 1e-5)) << r;
  }

  // Tokens after the spec's end (right padding of a batch) change nothing.
  const torch::Tensor padded = torch::cat({tokens, torch::full({1, 9}, 7, torch::kLong)}, 1);
  torch::Tensor slots_padded;
  net->mapper_outputs(padded, ends, &slots_padded);
  // (float sums over a longer row: rounding of states of RMS 1)
  EXPECT_TRUE(torch::allclose(slots_padded, slots, 1e-5, 2e-5)) << (slots_padded - slots).abs().max().item<double>();

  // With maps of its own (B maps non-zero), two different specs get different programs.
  for (auto& kv : net->named_parameters())
    if (kv.key().rfind("ptr_", 0) == 0 && kv.key().back() == 'b') kv.value().normal_(0.0, 0.1);
  const auto [t2, e2] = fx.row(*net, kRouting);
  torch::Tensor s2;
  const torch::Tensor c2 = net->coefficients_of(net->mapper_outputs(t2, e2, &s2));
  torch::Tensor s1;
  const torch::Tensor c1 = net->coefficients_of(net->mapper_outputs(tokens, ends, &s1));
  // Same coefficients for both, so only the slots can tell the specs apart.
  const auto d1 = deltas(net->adapters(c1, s1)), d2 = deltas(net->adapters(c1, s2));
  for (const auto& [name, d] : d1) EXPECT_GT((d - d2.at(name)).abs().max().item<double>(), 1e-4) << name;
  EXPECT_THROW(net->adapters(c2, s2.narrow(1, 0, 3)), Error);  // slots of another rank
}

INSTANTIATE_TEST_SUITE_P(TrainCompilerPointer, PointerSlots, ::testing::Bool());

TEST(TrainCompilerPointer, RecipeWithThePointerChannelRefusesAnExport) {
  nlohmann::json j = {{"name", "p"},
                      {"mode", "compiler"},
                      {"steps", 2},
                      {"data", {{"source", "generator"}, {"n_train", 8}, {"n_heldout_params", 2}, {"n_heldout_family", 0}}},
                      {"tokenizer", {{"path", "S.gguf"}}},
                      {"compiler", {{"interpreter", "S.gguf"}, {"pointer_rank", 32}}},
                      {"export", {{"path", "out/P.gguf"}}}};
  try {
    train::parse_recipe(j);
    ADD_FAILURE() << "an export of a pointer compiler was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.where()).find("export.path"), std::string::npos) << e.where();
  }
  j.erase("export");
  EXPECT_EQ(train::parse_recipe(j).compiler.pointer_rank, 32);
  j["compiler"]["pointer_rank"] = -1;
  EXPECT_THROW(train::parse_recipe(j), Error);
  j["compiler"]["pointer_rank"] = 0;
  j["compiler"]["prompt_drop_prob"] = 1.0;  // never in the prompt is prompt_spec false
  EXPECT_THROW(train::parse_recipe(j), Error);
  j["compiler"].erase("prompt_drop_prob");
  j["compiler"]["prompt_spec"] = false;
  j["export"] = {{"path", "out/P.gguf"}};
  try {
    train::parse_recipe(j);
    ADD_FAILURE() << "an export of a compiler trained without the spec in the prompt was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.where()).find("export.path"), std::string::npos) << e.where();
  }
  // The sentiment pairs (docs/TRAINING.md): the same recipe but for the spec.
  const train::Recipe p = train::load_recipe(test::source_dir() + "/train/recipes/pointer/P-sentiment.json");
  const train::Recipe c = train::load_recipe(test::source_dir() + "/train/recipes/pointer/P-sentiment-control.json");
  EXPECT_TRUE(p.compiler.spec_conditioned);
  EXPECT_FALSE(c.compiler.spec_conditioned);
  EXPECT_EQ(p.compiler.pointer_rank, c.compiler.pointer_rank);
  EXPECT_EQ(p.steps, c.steps);
  EXPECT_EQ(p.seed, c.seed);
  const train::Recipe pb = train::load_recipe(test::source_dir() + "/train/recipes/pointer/PB-sentiment.json");
  const train::Recipe cb = train::load_recipe(test::source_dir() + "/train/recipes/pointer/PB-sentiment-control.json");
  EXPECT_FALSE(pb.compiler.prompt_spec);
  EXPECT_FALSE(cb.compiler.prompt_spec);
  EXPECT_TRUE(pb.compiler.spec_conditioned);
  EXPECT_FALSE(cb.compiler.spec_conditioned);
  EXPECT_EQ(pb.steps, cb.steps);
  // Every recipe of the experiment parses, none exports, and a control withholds the spec.
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(test::source_dir() + "/train/recipes/pointer")) {
    const train::Recipe r = train::load_recipe(e.path().string());
    EXPECT_TRUE(r.exp.path.empty()) << e.path();
    EXPECT_EQ(r.compiler.pointer_rank, 32) << e.path();
    EXPECT_EQ(r.compiler.spec_conditioned, e.path().stem().string().find("-control") == std::string::npos) << e.path();
    ++n;
  }
  EXPECT_GE(n, 12u);
}

// prompt_spec false: the encoder reads the same spec rows; the interpreter's rows lose the
// pseudo-program (the spec) and keep the case.
TEST(TrainCompilerPointer, BlindPromptKeepsTheEncoderRowsAndDropsTheSpecFromTheInterpreters) {
  data::GenOptions go;
  go.seed = 1;
  go.n_train = 16;
  go.n_heldout_params = 0;
  go.n_heldout_family = 0;
  go.families = {"sentiment"};
  const data::Generator gen(go);
  const Tokenizer tok = Tokenizer::load(test::source_dir() + "/models/trained/S.gguf");
  train::ProgramBatchOptions po;
  po.specs = 4;
  po.cases_per_spec = 2;
  po.shuffle = false;
  po.wrap = false;
  po.enc.eos_id = tok.eos_id().value_or(-1);
  po.enc.prefix_first_id = static_cast<int32_t>(tok.n_vocab());
  po.enc.prefix_tokens = 3;
  po.enc.max_tokens = 1024;
  train::ProgramBatcher full(gen, data::Split::Train, tok, po, 4);
  po.prompt_spec = false;
  train::ProgramBatcher blind(gen, data::Split::Train, tok, po, 4);
  const train::ProgramBatch f = full.next(), b = blind.next();
  ASSERT_EQ(f.n_specs, 4);
  EXPECT_EQ(b.enc_tokens, f.enc_tokens);
  EXPECT_EQ(b.row_spec, f.row_spec);
  ASSERT_EQ(b.rows, f.rows);
  for (int64_t row = 0; row < f.rows; ++row) {
    const data::Record rec = gen.record(data::Split::Train, static_cast<size_t>(f.row_spec[static_cast<size_t>(row)]), 1);
    // The spec's instruction (up to its first blank line) is in the full row and not in the blind one.
    const std::string instruction = rec.spec.substr(0, rec.spec.find("\n\n"));
    const std::vector<int32_t> ids = tok.encode(instruction.substr(0, 40));
    const std::vector<int64_t> probe(ids.begin() + 1, ids.end() - 1);  // away from the edges' merges
    auto row_of = [&](const train::ProgramBatch& x) {
      return std::vector<int64_t>(x.tokens.begin() + row * x.cols, x.tokens.begin() + (row + 1) * x.cols);
    };
    const auto fr = row_of(f), br = row_of(b);
    EXPECT_NE(std::search(fr.begin(), fr.end(), probe.begin(), probe.end()), fr.end()) << row;
    EXPECT_EQ(std::search(br.begin(), br.end(), probe.begin(), probe.end()), br.end()) << row;
    // The answer is trained the same: as many target tokens in each row.
    auto targets = [&](const train::ProgramBatch& x) {
      return std::count_if(x.targets.begin() + row * x.cols, x.targets.begin() + (row + 1) * x.cols,
                           [](int64_t t) { return t >= 0; });
    };
    EXPECT_EQ(targets(b), targets(f)) << row;
  }
  // prompt_drop_prob: per spec (every case of a spec alike), some specs of 16 each way, and the
  // same draw in a second pass.
  po.prompt_spec = true;
  po.prompt_drop_prob = 0.5;
  po.specs = 16;
  auto dropped = [&] {
    train::ProgramBatcher x(gen, data::Split::Train, tok, po, 16);
    const train::ProgramBatch xb = x.next();
    std::vector<int> spec_has(static_cast<size_t>(xb.n_specs), -1);
    for (int64_t row = 0; row < xb.rows; ++row) {
      const data::Record rec = gen.record(data::Split::Train, static_cast<size_t>(xb.row_spec[static_cast<size_t>(row)]), 1);
      const std::vector<int32_t> ids = tok.encode(rec.spec.substr(0, 40));
      const std::vector<int64_t> probe(ids.begin() + 1, ids.end() - 1);
      const std::vector<int64_t> r(xb.tokens.begin() + row * xb.cols, xb.tokens.begin() + (row + 1) * xb.cols);
      const int has = std::search(r.begin(), r.end(), probe.begin(), probe.end()) != r.end() ? 1 : 0;
      int& h = spec_has[static_cast<size_t>(xb.row_spec[static_cast<size_t>(row)])];
      EXPECT_TRUE(h == -1 || h == has) << "spec " << xb.row_spec[static_cast<size_t>(row)] << " is dropped for some cases only";
      h = has;
    }
    return spec_has;
  };
  const std::vector<int> first = dropped();
  EXPECT_EQ(dropped(), first);
  const auto with = std::count(first.begin(), first.end(), 1), without = std::count(first.begin(), first.end(), 0);
  EXPECT_GT(with, 0);
  EXPECT_GT(without, 0);
  EXPECT_EQ(with + without, static_cast<long>(first.size()));
}

}  // namespace
}  // namespace paw
