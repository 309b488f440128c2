// Compiler training (recipe mode "compiler"; docs/TRAINING.md, "Compiler"): specs from the
// generator, each with several cases; the compiler emits one LoRA per spec; the frozen
// interpreter runs each case in the program format with its spec's LoRA; the loss is the
// interpreter's NLL of the answer tokens and EOS. Gradients reach mapper, bases and encoder.
#include <torch/types.h>
#include <torch/utils.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/adamw.h>
#include <torch/serialize/archive.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "paw/compiler/compiler.hpp"
#include "paw/compiler/format.hpp"
#include "paw/data/generator.hpp"
#include "paw/data/rng.hpp"
#include "paw/ops/kernels.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/train/compiler_net.hpp"
#include "paw/train/gguf_io.hpp"
#include "paw/train/mixed_precision.hpp"
#include "paw/util/atomic_file.hpp"
#include "paw/util/sha256.hpp"
#include "train/checkpoint.hpp"
#include "train/compiler_batch.hpp"
#include "train/run_single.hpp"
#include "train/run_util.hpp"
#include "train/step_loop.hpp"

namespace paw::train {
namespace {

namespace fs = std::filesystem;
constexpr const char* kCheckpointFormat = "paw-compiler-checkpoint/1";

struct CompilerRun {
  const Recipe& r;
  const RunOptions& opt;
  torch::Device dev;
  Tokenizer tok;
  std::unique_ptr<data::Generator> gen;
  TorchModel interp{nullptr};
  CompilerNet net{nullptr};
  std::unique_ptr<torch::optim::AdamW> optim;
  std::unique_ptr<ProgramBatcher> batcher;
  InterpreterPin pin;
  std::string identity, ckpt_path;
  int64_t step = 0, tokens_seen = 0;

  CompilerRun(const Recipe& recipe, const RunOptions& o) : r(recipe), opt(o), dev(pick_device(o.device)) {}

  void build() {
    seed_and_threads(r, dev);
    const Recipe::Compiler& c = r.compiler;
    tok = Tokenizer::load(r.tokenizer.path);
    interp = load_model(c.interpreter);
    interp->set_frozen(true);
    interp->to(dev);
    pin.name = fs::path(c.interpreter).filename().string();
    pin.sha256 = sha256_file_hex(c.interpreter);
    pin.size = fs::file_size(c.interpreter);

    CompilerConfig cc;
    cc.prefix_tokens = c.prefix_tokens;
    cc.n_bases = c.n_bases;
    cc.rank = c.rank;
    cc.alpha = c.alpha;
    cc.mapper_hidden = c.mapper_hidden;
    cc.modules = c.modules;
    cc.spec_conditioned = c.spec_conditioned;
    cc.coef_init = c.coef_init;
    cc.coef_activation = c.coef_activation;
    cc.router_logit_std = c.router_logit_std;
    cc.n_experts = c.n_experts;
    cc.pointer_rank = c.pointer_rank;
    cc.pointer_query_std = c.pointer_query_std;
    cc.pointer_centered = c.pointer_centered;
    for (const auto& kv : c.family_experts) cc.expert_names.push_back(kv.first);
    TorchModel enc_src = load_model(c.encoder_init.empty() ? c.interpreter : c.encoder_init);
    net = CompilerNet(enc_src, tok.n_vocab(), *interp, cc, data::mix_seed(r.seed, 0x636F6D70));  // "comp"
    net->to(dev);
    if (!c.train_bases) net->freeze_bases();
    for (const auto& [fam, path] : c.family_experts) expert_of[fam] = static_cast<int64_t>(expert_of.size());
    gen = std::make_unique<data::Generator>(r.data.gen);

    ProgramBatchOptions po;
    po.specs = r.batch.batch_size;
    po.cases_per_spec = c.cases_per_spec;
    po.seq_len = r.batch.seq_len;
    po.seed = r.seed;
    po.enc.eos_id = tok.eos_id().value_or(-1);
    po.enc.prefix_first_id = static_cast<int32_t>(net->prefix_first_id());
    po.enc.prefix_tokens = c.prefix_tokens;
    po.enc.max_tokens = net->encoder()->hparams().n_ctx_train;
    po.enc.spec_conditioned = c.spec_conditioned;
    po.spec_view_prob = c.spec_view_prob;
    po.prompt_spec = c.prompt_spec;
    po.prompt_drop_prob = c.prompt_drop_prob;
    batcher = std::make_unique<ProgramBatcher>(*gen, data::Split::Train, tok, po);

    nlohmann::json id = {{"mode", "compiler"}, {"interpreter", pin.sha256},   {"prefix_tokens", c.prefix_tokens},
                         {"n_bases", c.n_bases}, {"rank", c.rank},             {"mapper_hidden", net->config().mapper_hidden},
                         {"modules", net->config().modules}, {"spec_conditioned", c.spec_conditioned}};
    if (c.feature_norm_specs > 0) id["feature_norm_specs"] = c.feature_norm_specs;  // older checkpoints stay valid
    if (c.coef_activation != compiler::CoefActivation::Linear)
      id["coef_activation"] = compiler::coef_activation_name(c.coef_activation);
    if (c.n_experts > 0) id["n_experts"] = c.n_experts;
    if (!c.family_experts.empty()) id["family_experts"] = cc.expert_names;
    if (!c.train_bases) id["train_bases"] = false;
    if (c.spec_view_prob > 0) id["spec_view_prob"] = c.spec_view_prob;
    if (c.pointer_rank > 0) {
      id["pointer_rank"] = c.pointer_rank;
      id["pointer_query_std"] = c.pointer_query_std;
      id["pointer_centered"] = c.pointer_centered;
    }
    identity = id.dump();

    // AdamW: decay on matrices; the encoder (pretrained) at encoder_lr_scale of the rate.
    std::vector<torch::Tensor> enc_decay, enc_rest, head_decay, head_rest;
    for (const auto& kv : net->named_parameters()) {
      if (!kv.value().requires_grad()) continue;  // frozen bases
      const bool is_enc = kv.key().rfind("encoder.", 0) == 0;
      const bool decay = kv.value().dim() >= 2 && kv.key().find("bases_") == std::string::npos;
      (is_enc ? (decay ? enc_decay : enc_rest) : (decay ? head_decay : head_rest)).push_back(kv.value());
    }
    torch::optim::AdamWOptions ao(r.optim.lr);
    ao.betas({r.optim.beta1, r.optim.beta2}).eps(r.optim.eps).weight_decay(r.optim.weight_decay);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    auto add = [&](std::vector<torch::Tensor>& ps, bool decay) {
      if (ps.empty()) return;
      auto o = std::make_unique<torch::optim::AdamWOptions>(ao);
      if (!decay) o->weight_decay(0.0);
      groups.emplace_back(ps, std::move(o));
    };
    add(head_decay, true);
    add(head_rest, false);
    n_head_groups = groups.size();
    add(enc_decay, true);
    add(enc_rest, false);
    optim = std::make_unique<torch::optim::AdamW>(std::move(groups), ao);
    ckpt_path = r.checkpoint_dir + "/checkpoint.pt";
  }
  size_t n_head_groups = 0;
  std::map<std::string, int64_t> expert_of;  // family experts: family -> expert index (name order)

  // Family experts: each spec's expert index, -1 for a family without one. [S]
  torch::Tensor expert_targets(const ProgramBatch& b) const {
    std::vector<int64_t> t;
    for (const std::string& f : b.spec_family) {
      const auto it = expert_of.find(f);
      t.push_back(it == expert_of.end() ? -1 : it->second);
    }
    return to_dev(t, 1, b.n_specs).squeeze(0);
  }

  // Family experts: the routing cross-entropy summed over the batch's specs that have an expert.
  torch::Tensor routing_loss(const ProgramBatch& b, const torch::Tensor& router_logits) const {
    return torch::nn::functional::cross_entropy(
        at_least_float(router_logits), expert_targets(b),
        torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-1).reduction(torch::kSum));
  }

  // Family experts: how many of the batch's specs the router sends to their own expert (argmax).
  int64_t routed_right(const ProgramBatch& b, const torch::Tensor& router_logits) const {
    return router_logits.argmax(1).eq(expert_targets(b)).sum().item<int64_t>();
  }

  // Standardises the mapper's input from the pooled features of the first
  // compiler.feature_norm_specs train specs (a pass of their own, in order; the training
  // stream is untouched). Run once at the start; a resumed run reads the statistics back.
  void standardise_features() {
    const int64_t n = r.compiler.feature_norm_specs;
    if (n <= 0 || !r.compiler.spec_conditioned) return;
    torch::NoGradGuard ng;
    ProgramBatchOptions po = batcher->options();
    po.cases_per_spec = 1;
    po.shuffle = false;
    po.wrap = false;
    po.spec_view_prob = 0;
    ProgramBatcher fb(*gen, data::Split::Train, tok, po, std::min<size_t>(static_cast<size_t>(n), gen->count(data::Split::Train)));
    std::vector<torch::Tensor> feats;
    for (ProgramBatch b = fb.next(); b.rows > 0; b = fb.next()) {
      MixedPrecisionScope mixed(r.precision == "bf16", dev);
      const torch::Tensor enc = to_dev(b.enc_tokens, b.n_specs, b.enc_cols);
      const torch::Tensor ends = to_dev(b.enc_ends, 1, b.n_specs).squeeze(0);
      feats.push_back(at_least_float(net->pooled(enc, ends)));  // [S, d]
    }
    const torch::Tensor all = torch::cat(feats);
    net->set_feature_standardisation(all);
    const double spread = net->calibrate_router(all);
    if (opt.progress && r.compiler.coef_activation == compiler::CoefActivation::Softmax)
      std::fprintf(stderr, "[train %s] routing logits: spread %.4f across %lld specs, scaled to %.2f\n", r.name.c_str(),
                   spread, static_cast<long long>(all.size(0)), r.compiler.router_logit_std);
  }

  // Experts only, on a fresh start: expert e begins as the program of family_experts' e-th
  // control compiler, or every expert as the program of compiler.init_from (same interpreter,
  // rank and modules).
  void init_experts() {
    int64_t e = 0;
    for (const auto& [fam, path] : r.compiler.family_experts) {
      net->init_expert(e++, control_program(path));
      if (opt.progress)
        std::fprintf(stderr, "[train %s] expert %lld (%s) starts as the program of %s\n", r.name.c_str(),
                     static_cast<long long>(e - 1), fam.c_str(), path.c_str());
    }
    const std::string& path = r.compiler.init_from;
    if (path.empty()) return;
    net->init_experts(control_program(path));
    if (opt.progress)
      std::fprintf(stderr, "[train %s] experts start as the program of %s\n", r.name.c_str(), path.c_str());
  }

  // The one program of a control compiler for this interpreter (rank and modules checked later).
  std::map<std::string, LoraWeights> control_program(const std::string& path) const {
    const compiler::Compiler from = compiler::Compiler::open(path);
    const compiler::CompilerInfo& fi = from.info();
    if (fi.spec_conditioned)
      throw Error("an expert's starting program must come from a control compiler (one program for every spec)",
                  path, "train or pass a compiler with spec_conditioned false, e.g. models/trained/C-control.gguf");
    if (fi.interp_sha256 != pin.sha256)
      throw Error("this starting compiler was trained for another interpreter", path,
                  "its interpreter is " + fi.interp_name);
    return from.adapter_weights(from.coefficients("(the control ignores the spec)"));
  }

  void save_checkpoint() {
    write_checkpoint(ckpt_path, kCheckpointFormat, identity,
                     {step, static_cast<int64_t>(batcher->cursor()), 0, tokens_seen}, *net, *optim);
  }

  void load_checkpoint() {
    const CheckpointCounters c = read_checkpoint(ckpt_path, dev, kCheckpointFormat, identity,
                                                 "a different compiler shape or interpreter", *net, *optim);
    step = c.step;
    batcher->seek(static_cast<uint64_t>(c.cursor));
    tokens_seen = c.tokens_seen;
  }

  torch::Tensor to_dev(const std::vector<int64_t>& v, int64_t rows, int64_t cols) const {
    return to_device(v, rows, cols, dev);
  }

  // Interpreter logits [rows, T, V] (float) for one program batch, graph attached; the
  // batch's coefficients [S, n_coef] in *coef_out when given.
  // The mapper's outputs (experts: router logits [S, E]) in *mapper_out when given.
  torch::Tensor logits(const ProgramBatch& b, torch::Tensor* coef_out = nullptr, torch::Tensor* mapper_out = nullptr) {
    MixedPrecisionScope mixed(r.precision == "bf16", dev);
    const torch::Tensor enc = to_dev(b.enc_tokens, b.n_specs, b.enc_cols);
    const torch::Tensor ends = to_dev(b.enc_ends, 1, b.n_specs).squeeze(0);  // [S]
    torch::Tensor slots;                                            // [S, R, d] with the pointer channel
    const torch::Tensor out = net->mapper_outputs(enc, ends, &slots);
    const torch::Tensor coef = net->coefficients_of(out);  // [S, n_coef]
    if (coef_out) *coef_out = coef;
    if (mapper_out) *mapper_out = out;
    const torch::Tensor row_spec = to_dev(b.row_spec, 1, b.rows).squeeze(0);  // [rows]
    LoraSet per_spec = net->adapters(coef, slots);
    LoraSet per_row;
    per_row.alpha = per_spec.alpha;
    for (auto& [name, t] : per_spec.pairs)
      per_row.pairs[name] = {t.a.index_select(0, row_spec), t.b.index_select(0, row_spec)};
    const torch::Tensor tokens = to_dev(b.tokens, b.rows, b.cols);
    return at_least_float(interp->forward(tokens, &per_row));
  }

  // Held-out records, one case each (the record's own), teacher-forced: mean answer NLL and
  // the share of cases whose every answer token is the argmax (= greedy exact match).
  EvalScore evaluate() {
    torch::NoGradGuard ng;
    const data::Split split = eval_split(r);
    ProgramBatchOptions po = batcher->options();
    po.cases_per_spec = 1;
    po.shuffle = false;
    po.wrap = false;
    po.spec_view_prob = 0;  // held-out specs are read whole, as paw compile reads them
    po.prompt_drop_prob = 0;  // and their prompts carry the spec, as paw compile writes them
    // The training generator has the recipe's options, so it draws the held-out splits too.
    const size_t n = std::min<size_t>(static_cast<size_t>(r.eval.n), gen->count(split));
    ProgramBatcher eb(*gen, split, tok, po, n);
    double sum = 0;
    int64_t nt = 0, cases = 0, exact = 0, routed = 0, routable = 0;
    for (ProgramBatch b = eb.next(); b.rows > 0; b = eb.next()) {
      torch::Tensor out;
      const torch::Tensor lg = logits(b, nullptr, &out);
      if (!expert_of.empty()) {
        routed += routed_right(b, out);
        for (const std::string& f : b.spec_family) routable += expert_of.count(f) ? 1 : 0;
      }
      const torch::Tensor targets = to_dev(b.targets, b.rows, b.cols);
      sum += nll_sum(lg, targets).item<double>();
      nt += b.n_targets;
      exact += exact_rows(lg, targets);
      cases += b.rows;
    }
    if (!expert_of.empty() && opt.progress)
      std::fprintf(stderr, "[train %s] routing: %lld of %lld held-out specs to their family's expert\n", r.name.c_str(),
                   static_cast<long long>(routed), static_cast<long long>(routable));
    return {nt > 0 ? sum / double(nt) : std::nan(""), cases > 0 ? double(exact) / double(cases) : std::nan("")};
  }
};

}  // namespace

RunResult run_compiler_recipe(const Recipe& r, const RunOptions& opt) {
  CompilerRun run(r, opt);
  run.build();
  RunResult res;
  for (const auto& p : run.net->parameters())
    if (p.requires_grad()) res.n_params += p.numel();  // frozen bases are not trained
  for (const auto& p : run.interp->parameters()) res.n_model_params += p.numel();
  if (opt.resume && fs::exists(run.ckpt_path)) {
    run.load_checkpoint();
  } else if (fs::exists(run.ckpt_path) && !opt.resume) {
    throw Error("a checkpoint already exists", "'" + run.ckpt_path + "'",
                "pass --resume to continue it, or delete the checkpoint directory to start over");
  } else {
    run.standardise_features();
    run.init_experts();
  }
  res.first_step = run.step;
  const int64_t end = opt.max_steps >= 0 ? std::min(r.steps, opt.max_steps) : r.steps;
  make_parent(r.log_path);
  std::ofstream log(r.log_path, run.step > 0 ? std::ios::app : std::ios::trunc);
  if (!log) throw Error("cannot open the log file", "'" + r.log_path + "'");
  if (opt.progress)
    std::fprintf(stderr,
                 "[train %s] compiler: %lld trainable parameters, interpreter %s (%lld parameters, frozen), %s, "
                 "device %s, precision %s, steps %lld..%lld of %lld\n",
                 r.name.c_str(), static_cast<long long>(res.n_params), run.pin.name.c_str(),
                 static_cast<long long>(res.n_model_params),
                 r.compiler.spec_conditioned ? "spec-conditioned" : "control (spec withheld)", opt.device.c_str(),
                 r.precision.c_str(), static_cast<long long>(run.step), static_cast<long long>(end),
                 static_cast<long long>(r.steps));
  if (opt.progress) note_emulated_bf16(r, run.dev);

  std::vector<ProgramBatch> micro;  // the current step's micro-batches
  StepHooks h;
  h.trainable = run.net.get();
  h.optim = run.optim.get();
  h.step = &run.step;
  h.tokens_seen = &run.tokens_seen;
  h.set_lr = [&](double lr) {  // the encoder's groups (after the head's) at encoder_lr_scale
    auto& groups = run.optim->param_groups();
    for (size_t g = 0; g < groups.size(); ++g)
      static_cast<torch::optim::AdamWOptions&>(groups[g].options())
          .lr(g < run.n_head_groups ? lr : lr * r.compiler.encoder_lr_scale);
  };
  h.next_micro_batch = [&](int64_t k, int64_t& n_tokens, int64_t& n_targets) {
    if (k == 0) micro.clear();
    micro.push_back(run.batcher->next());
    n_tokens = micro.back().n_tokens;
    n_targets = micro.back().n_targets;
  };
  h.micro_batch_loss_sum = [&](int64_t k) {
    const ProgramBatch& b = micro[static_cast<size_t>(k)];
    torch::Tensor coef, out;
    torch::Tensor loss = nll_sum(run.logits(b, &coef, &out), run.to_dev(b.targets, b.rows, b.cols));
    // The routing cross-entropy per spec, scaled like the NLL (the step divides by the targets).
    if (!r.compiler.family_experts.empty() && r.compiler.route_weight > 0)
      loss = loss + run.routing_loss(b, out) *
                        (r.compiler.route_weight * static_cast<double>(b.n_targets) / static_cast<double>(b.n_specs));
    // The balance penalty is per target token like the NLL (the step divides the sum by them).
    if (r.compiler.balance_weight > 0)
      loss = loss + run.net->balance_penalty(coef) * (r.compiler.balance_weight * static_cast<double>(b.n_targets));
    return loss;
  };
  h.evaluate = [&] { return run.evaluate(); };
  h.save_checkpoint = [&] { run.save_checkpoint(); };
  h.cursor_key = "specs";
  h.cursor = [&] { return static_cast<int64_t>(run.batcher->cursor()); };
  h.checkpoint_path = run.ckpt_path;
  run_steps(r, opt, end, h, log, res);
  if (!r.exp.path.empty()) {
    make_parent(r.exp.path);
    run.net->to(torch::kCPU);
    export_compiler_gguf(*run.net, run.tok, run.pin, *run.interp, r.name, r.exp.path);
    res.exported = r.exp.path;
    if (opt.progress) std::fprintf(stderr, "[train %s] exported %s\n", r.name.c_str(), r.exp.path.c_str());
  }
  return res;
}

}  // namespace paw::train
