// Finetune compile (see paw/train/finetune.hpp).
#include "paw/train/finetune.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

#include "paw/compiler/format.hpp"
#include "paw/data/rng.hpp"
#include "paw/ops/cpu_features.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/train/gguf_io.hpp"
#include "paw/train/lora.hpp"
#include "paw/train/mixed_precision.hpp"
#include "paw/util/error.hpp"
#include "train/compiler_batch.hpp"
#include "train/run_util.hpp"

namespace paw::train {
namespace {

using compiler::ProgramCase;

// Padded rows of some cases: tokens [rows, cols], targets [rows, cols] (-1 = no loss).
struct Rows {
  std::vector<int64_t> tokens, targets;
  int64_t rows = 0, cols = 0, n_targets = 0;
};
Rows make_rows(const std::vector<const ProgramCase*>& cases) {
  Rows r;
  r.rows = static_cast<int64_t>(cases.size());
  for (const ProgramCase* c : cases) r.cols = std::max<int64_t>(r.cols, static_cast<int64_t>(c->tokens.size()) - 1);
  r.tokens.assign(static_cast<size_t>(r.rows * r.cols), 0);
  r.targets.assign(static_cast<size_t>(r.rows * r.cols), -1);
  for (int64_t row = 0; row < r.rows; ++row)
    r.n_targets += fill_case_row(*cases[static_cast<size_t>(row)], row, r.cols, r.tokens, r.targets);
  return r;
}

}  // namespace

std::vector<FinetuneExample> read_examples_jsonl(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read the examples file", path, "check the path");
  std::vector<FinetuneExample> out;
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    const std::string where = path + ":" + std::to_string(n);
    if (std::all_of(line.begin(), line.end(), [](unsigned char ch) { return std::isspace(ch) != 0; })) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw Error(std::string("not JSON: ") + e.what(), where, R"(one {"input": "...", "output": "..."} object per line)");
    }
    if (!j.is_object()) throw Error("not a JSON object", where, R"(one {"input": "...", "output": "..."} object per line)");
    const auto inp = j.find("input");
    auto outp = j.find("output");
    if (outp == j.end()) outp = j.find("expected");
    if (inp == j.end() || !inp->is_string())
      throw Error("missing or non-string \"input\"", where, R"(one {"input": "...", "output": "..."} object per line)");
    if (outp == j.end() || !outp->is_string())
      throw Error("missing or non-string \"output\"", where, R"(one {"input": "...", "output": "..."} object per line)");
    out.push_back({inp->get<std::string>(), outp->get<std::string>()});
  }
  return out;
}

FinetuneResult finetune_compile(const compiler::Compiler& c, const std::string& interpreter_path, std::string_view spec,
                                const std::vector<FinetuneExample>& extra, const FinetuneOptions& o,
                                const std::string& adapter_type) {
  const auto t0 = std::chrono::steady_clock::now();
  const compiler::CompilerInfo& ci = c.info();
  c.check_interpreter(interpreter_path);
  if (o.steps < -1 || o.batch <= 0 || !(o.lr >= 0))
    throw Error("steps must be >= 0 (or -1: auto), batch positive, lr positive (or 0: auto)", "finetune options");
  // The mapper's adapter for this spec (one encoder pass, which checks the spec) may be the
  // start; packaged, it gives the program's template (and checks the adapter type).
  const std::map<std::string, LoraWeights> mapper_pairs = c.adapter_weights(c.coefficients(spec));
  compiler::PackageOptions mpo;
  mpo.adapter_type = adapter_type;
  const compiler::CompiledProgram mapper = c.package(spec, mapper_pairs, mpo);

  std::vector<FinetuneExample> examples = spec_examples(spec);
  const size_t from_spec = examples.size();
  examples.insert(examples.end(), extra.begin(), extra.end());

  if (o.threads > 0) torch::set_num_threads(o.threads);
  torch::manual_seed(o.seed);
  const Tokenizer tok = Tokenizer::load(interpreter_path);
  TorchModel interp = load_gguf_model(interpreter_path);
  interp->set_frozen(true);
  interp->eval();
  const TemplateParts parts = split_template(mapper.bundle.prompt_template, "the mapper's program template");
  const int32_t eos = tok.eos_id().value_or(-1);

  FinetuneResult res;
  std::vector<ProgramCase> cases;
  const int64_t n_ctx = interp->hparams().n_ctx_train;
  const int64_t limit = o.max_tokens > 0 ? std::min(o.max_tokens, n_ctx) : n_ctx;
  int64_t shortest = 0;
  for (const FinetuneExample& e : examples) {
    ProgramCase pc = compiler::encode_program_case(tok, parts, e.input, e.output, eos);
    const int64_t n = static_cast<int64_t>(pc.tokens.size()) - 1;
    if (n > limit) {
      ++res.n_skipped;
      shortest = shortest == 0 ? n : std::min(shortest, n);
      continue;
    }
    cases.push_back(std::move(pc));
  }
  if (cases.empty())
    throw Error(examples.empty() ? "no examples to finetune on"
                                 : "every example is longer than " + std::to_string(limit) +
                                       " tokens with the program's prompt (the shortest has " + std::to_string(shortest) +
                                       ")",
                "finetune",
                examples.empty() ? "write Input:/Output: examples in the spec, or pass --examples FILE.jsonl"
                                 : "the spec is part of every example's prompt: shorten the spec or the examples");
  res.n_examples = cases.size();
  const bool many = res.n_examples >= kManyExamples;
  res.steps = o.steps >= 0 ? o.steps : many ? 120 : 40;
  res.lr = o.lr > 0 ? o.lr : many ? 1e-3 : 5e-4;

  LoraConfig lc;
  lc.rank = ci.rank;
  lc.alpha = ci.alpha;
  lc.targets = ci.modules;
  LoraModule lora(*interp, lc, o.seed);
  if (o.init_mapper) {
    torch::NoGradGuard ng;
    for (const auto& [name, w] : mapper_pairs) {
      lora->a(name).copy_(torch::from_blob(const_cast<float*>(w.a.data()), {w.rank, w.n_in}, torch::kFloat));
      lora->b(name).copy_(torch::from_blob(const_cast<float*>(w.b.data()), {w.n_out, w.rank}, torch::kFloat));
    }
  }

  // Logits [rows, cols, n_vocab] in float; the products in bf16 when asked and the CPU does bf16
  // natively (backward replays the casts).
  const bool bf16 = o.bf16 && cpu::has_avx512_bf16();
  auto forward = [&](const Rows& r, const LoraSet& set) {
    MixedPrecisionScope mixed(bf16, torch::kCPU);
    return at_least_float(interp->forward(to_device(r.tokens, r.rows, r.cols, torch::kCPU), &set));
  };

  // Mean answer NLL over every example (teacher forced), in chunks of `batch`.
  auto mean_loss = [&]() {
    torch::NoGradGuard ng;
    double sum = 0;
    int64_t n = 0;
    for (size_t i = 0; i < cases.size(); i += static_cast<size_t>(o.batch)) {
      std::vector<const ProgramCase*> chunk;
      for (size_t k = i; k < std::min(cases.size(), i + static_cast<size_t>(o.batch)); ++k) chunk.push_back(&cases[k]);
      const Rows r = make_rows(chunk);
      const LoraSet set = lora->lora_set();
      const torch::Tensor lg = forward(r, set);
      sum += nll_sum(lg, to_device(r.targets, r.rows, r.cols, torch::kCPU)).item<double>();
      n += r.n_targets;
    }
    return n > 0 ? sum / double(n) : 0.0;
  };
  res.first_loss = mean_loss();

  torch::optim::AdamW optim(lora->parameters(), torch::optim::AdamWOptions(res.lr).weight_decay(0.0).betas({0.9, 0.99}));
  data::Rng rng(o.seed ^ 0x66696e65ULL);  // "fine"
  // With at most `batch` examples every step sees each once: no duplicate rows, and the step's
  // loss is the examples' loss, which stop_loss reads.
  const bool full_batch = cases.size() <= static_cast<size_t>(o.batch);
  Rows all_rows, sampled;
  if (full_batch) {
    std::vector<const ProgramCase*> every;
    for (const ProgramCase& pc : cases) every.push_back(&pc);
    all_rows = make_rows(every);
  }
  auto pick_batch = [&] {
    std::vector<const ProgramCase*> pick;
    for (int64_t k = 0; k < o.batch; ++k) pick.push_back(&cases[static_cast<size_t>(rng.below(cases.size()))]);
    return pick;
  };
  for (int64_t step = 0; step < res.steps; ++step) {
    const double lr = res.lr * std::min(1.0, double(step + 1) / 10.0);
    for (auto& g : optim.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    const Rows& r = full_batch ? all_rows : (sampled = make_rows(pick_batch()));
    const LoraSet set = lora->lora_set();
    const torch::Tensor lg = forward(r, set);
    const torch::Tensor loss = nll_sum(lg, to_device(r.targets, r.rows, r.cols, torch::kCPU)) / double(r.n_targets);
    const double step_loss = loss.item<double>();
    if (full_batch && step_loss <= o.stop_loss) break;  // the examples are fit: keep this program
    optim.zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(lora->parameters(), 1.0);
    optim.step();
    res.losses.push_back(step_loss);
    ++res.steps_run;
  }
  res.final_loss = mean_loss();

  // Package: the trained A/B as float weights, quantized by the compiler's writer.
  std::map<std::string, LoraWeights> pairs;
  for (const LinearSpec& t : lora->targets()) {
    const torch::Tensor a = lora->a(t.name).detach().contiguous(), b = lora->b(t.name).detach().contiguous();
    LoraWeights w;
    w.rank = a.size(0);
    w.n_in = a.size(1);
    w.n_out = b.size(0);
    w.a.assign(a.data_ptr<float>(), a.data_ptr<float>() + a.numel());
    w.b.assign(b.data_ptr<float>(), b.data_ptr<float>() + b.numel());
    pairs[t.name] = std::move(w);
  }
  compiler::PackageOptions po;
  po.adapter_type = adapter_type;
  po.compiler_kind = "finetune_lora";
  po.extra_meta = {{"finetune",
                    {{"steps", res.steps_run},
                     {"planned_steps", res.steps},
                     {"stop_loss", o.stop_loss},
                     {"batch", o.batch},
                     {"lr", res.lr},
                     {"seed", o.seed},
                     {"init", o.init_mapper ? "mapper" : "zero"},
                     {"examples", res.n_examples},
                     {"examples_from_spec", std::min(from_spec, res.n_examples)},
                     {"first_loss", res.first_loss},
                     {"final_loss", res.final_loss}}}};
  res.program = c.package(spec, pairs, po);
  res.seconds = seconds_since(t0);
  return res;
}

}  // namespace paw::train
