// The recipe runner (see paw/train/recipe.hpp): AdamW with warm-up + cosine, gradient
// accumulation and clipping, loss on output tokens only, atomic checkpoints that resume
// bit-for-bit, JSONL log, progress with tokens/s and ETA, GGUF export.
#include <torch/cuda.h>
#include <torch/types.h>
#include <torch/utils.h>
#include <torch/optim/adamw.h>
#include <torch/serialize/archive.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "paw/data/rng.hpp"
#include "paw/ops/kernels.hpp"
#include "paw/tokenizer/bpe_trainer.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/train/dataset.hpp"
#include "paw/train/gguf_io.hpp"
#include "paw/train/lora.hpp"
#include "paw/train/mixed_precision.hpp"
#include "paw/train/recipe.hpp"
#include "paw/util/atomic_file.hpp"
#include "paw/util/error.hpp"
#include "train/checkpoint.hpp"
#include "train/run_single.hpp"
#include "train/step_loop.hpp"
#include "train/run_util.hpp"

namespace paw::train {
namespace {

namespace fs = std::filesystem;
using Clock = RunClock;
constexpr const char* kCheckpointFormat = "paw-train-checkpoint/1";

ModelConfig config_from_recipe(const Recipe& r, const Tokenizer& tok) {
  const Recipe::Model& m = r.model;
  ModelConfig c;
  HParams& hp = c.hp;
  hp.arch = m.arch == "gpt2" ? Arch::Gpt2 : Arch::Qwen3;
  hp.n_vocab = m.n_vocab > 0 ? m.n_vocab : tok.n_vocab();
  hp.n_embd = m.n_embd;
  hp.n_layer = m.n_layer;
  hp.n_head = m.n_head;
  hp.n_ff = m.n_ff;
  hp.n_ctx_train = m.n_ctx;
  hp.norm_eps = m.norm_eps;
  if (hp.arch == Arch::Qwen3) {
    hp.n_head_kv = m.n_head_kv;
    hp.head_dim_k = hp.head_dim_v = m.head_dim;
    hp.rope_theta = m.rope_theta;
  } else {  // GPT-2: plain multi-head attention, head_dim = n_embd / n_head
    hp.n_head_kv = m.n_head;
    hp.head_dim_k = hp.head_dim_v = m.n_head > 0 ? m.n_embd / m.n_head : 0;
    hp.rope_theta = 0.0;
  }
  c.tied = m.tied;
  validate_config(c, "recipe model");
  return c;
}

nlohmann::json config_json(const ModelConfig& c) {
  const HParams& hp = c.hp;
  return {{"arch", std::string(arch_name(hp.arch))}, {"n_vocab", hp.n_vocab},   {"n_embd", hp.n_embd},
          {"n_layer", hp.n_layer},                   {"n_head", hp.n_head},     {"n_head_kv", hp.n_head_kv},
          {"head_dim", hp.head_dim_k},               {"n_ff", hp.n_ff},         {"n_ctx", hp.n_ctx_train},
          {"rope_theta", hp.rope_theta},             {"norm_eps", hp.norm_eps}, {"tied", c.tied}};
}

// Everything of one run.
struct Run {
  const Recipe& r;
  const RunOptions& opt;
  torch::Device dev;
  Tokenizer tok;
  std::unique_ptr<ExampleSource> train_src, eval_src;
  TorchModel model{nullptr};
  LoraModule lora{nullptr};
  std::shared_ptr<torch::nn::Module> trainable;
  std::unique_ptr<torch::optim::AdamW> optim;
  std::unique_ptr<Batcher> batcher;
  std::string identity;  // what a checkpoint must match to be resumed
  std::string ckpt_path;
  int64_t step = 0, tokens_seen = 0;

  Run(const Recipe& recipe, const RunOptions& o) : r(recipe), opt(o), dev(pick_device(o.device)) {}

  void build() {
    seed_and_threads(r, dev);
    tok = prepare_tokenizer(r, opt.progress);
    if (!tok.token_id("<|im_end|>") || !tok.token_id("<|im_start|>"))
      throw Error("the tokenizer lacks <|im_start|> / <|im_end|>", "tokenizer '" + r.tokenizer.path + "'",
                  "the prompted format needs the Qwen chat tokens (paw tokenizer train adds them)");

    if (r.data.source == "jsonl")
      train_src = jsonl_source(r.data.path);
    else
      train_src = generator_source(r.data.gen, data::Split::Train);
    if (r.eval.every > 0) {
      if (!r.eval.path.empty())
        eval_src = jsonl_source(r.eval.path);
      else
        eval_src = generator_source(r.data.gen, eval_split(r));
    }

    if (!r.model.init.empty()) {
      model = load_model(r.model.init);
    } else {
      model = TorchModel(config_from_recipe(r, tok));
      model->init_weights(r.model.init_std, r.seed);
    }
    const HParams& hp = model->hparams();
    if (tok.n_vocab() > hp.n_vocab)
      throw Error("the tokenizer has " + std::to_string(tok.n_vocab()) + " tokens but the model only " +
                      std::to_string(hp.n_vocab) + " embedding rows",
                  "recipe model", "leave model.n_vocab at 0 (the tokenizer's size) or raise it");
    if (r.batch.seq_len > hp.n_ctx_train)
      throw Error("batch.seq_len " + std::to_string(r.batch.seq_len) + " exceeds the model context " +
                      std::to_string(hp.n_ctx_train),
                  "recipe batch", "raise model.n_ctx or lower seq_len");
    model->to(dev);
    nlohmann::json id = {{"mode", r.mode}, {"model", config_json(model->config())}};
    if (r.mode == "lora") {
      model->set_frozen(true);
      LoraConfig lc;
      lc.rank = r.lora.rank;
      lc.alpha = r.lora.alpha;
      lc.targets = r.lora.targets;
      lc.layers = r.lora.layers;
      lora = LoraModule(*model, lc, data::mix_seed(r.seed, 0x6C6F7261));  // "lora"
      lora->to(dev);
      trainable = lora.ptr();
      id["lora"] = {{"rank", lc.rank}, {"alpha", lc.alpha}, {"targets", lc.targets}, {"layers", lc.layers}};
    } else {
      trainable = model.ptr();
    }
    identity = id.dump();

    // AdamW: decay on matrices only.
    std::vector<torch::Tensor> decay, no_decay;
    for (const auto& p : trainable->parameters())
      if (p.requires_grad()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
    torch::optim::AdamWOptions ao(r.optim.lr);
    ao.betas({r.optim.beta1, r.optim.beta2}).eps(r.optim.eps).weight_decay(r.optim.weight_decay);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    if (!decay.empty()) groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(ao));
    if (!no_decay.empty()) {
      auto nd = std::make_unique<torch::optim::AdamWOptions>(ao);
      nd->weight_decay(0.0);
      groups.emplace_back(no_decay, std::move(nd));
    }
    optim = std::make_unique<torch::optim::AdamW>(std::move(groups), ao);

    BatchOptions bo;
    bo.batch_size = r.batch.batch_size;
    bo.seq_len = r.batch.seq_len;
    bo.pack = r.batch.pack;
    bo.loss_on_prompt = r.batch.loss == "all";
    bo.seed = r.seed;
    batcher = std::make_unique<Batcher>(*train_src, tok, bo);
    ckpt_path = r.checkpoint_dir + "/checkpoint.pt";
  }

  int64_t n_trainable() const {
    int64_t n = 0;
    for (const auto& p : trainable->parameters())
      if (p.requires_grad()) n += p.numel();
    return n;
  }

  void save_checkpoint() {
    CheckpointCounters c{step, static_cast<int64_t>(batcher->cursor()), static_cast<int64_t>(batcher->skipped()),
                         tokens_seen};
    write_checkpoint(ckpt_path, kCheckpointFormat, identity, c, *trainable, *optim);
  }

  void load_checkpoint() {
    const CheckpointCounters c =
        read_checkpoint(ckpt_path, dev, kCheckpointFormat, identity, "a different model or mode", *trainable, *optim);
    step = c.step;
    batcher->seek(static_cast<uint64_t>(c.cursor));
    batcher->set_skipped(static_cast<uint64_t>(c.skipped));
    tokens_seen = c.tokens_seen;
  }

  torch::Tensor to_dev(const std::vector<int64_t>& v, int64_t rows, int64_t cols) const {
    return to_device(v, rows, cols, dev);
  }

  // Logits of one micro-batch [B, T, V] in float (graph attached).
  torch::Tensor batch_logits(const HostBatch& b) {
    const torch::Tensor tokens = to_dev(b.tokens, b.rows, b.cols);
    const torch::Tensor segments = b.segments.empty() ? torch::Tensor() : to_dev(b.segments, b.rows, b.cols);
    MixedPrecisionScope mixed(r.precision == "bf16", dev);
    LoraSet set;
    if (lora) set = lora->lora_set();
    const torch::Tensor logits = model->forward(tokens, lora ? &set : nullptr, segments);
    return at_least_float(logits);  // loss and argmax in float
  }

  // Summed token NLL of one micro-batch (graph attached).
  torch::Tensor batch_loss_sum(const HostBatch& b) {
    return nll_sum(batch_logits(b), to_dev(b.targets, b.rows, b.cols));
  }

  // With teacher forcing, "every answer token is the argmax at its position" is exactly "greedy
  // decoding writes the answer and stops" (ties aside), so `exact` is the greedy exact-match
  // rate of `paw eval` at no extra cost.
  EvalScore evaluate() {
    torch::NoGradGuard no_grad;
    struct Prefix : ExampleSource {
      const ExampleSource& s;
      size_t n;
      Prefix(const ExampleSource& src, size_t k) : s(src), n(std::min(k, src.size())) {}
      size_t size() const override { return n; }
      Triple at(size_t i) const override { return s.at(i); }
    } src(*eval_src, static_cast<size_t>(r.eval.n));
    BatchOptions bo;
    bo.batch_size = r.batch.batch_size;
    bo.seq_len = r.batch.seq_len;
    bo.pack = false;
    bo.shuffle = false;
    bo.wrap = false;
    Batcher eb(src, tok, bo);
    double sum = 0;
    int64_t n = 0, cases = 0, exact = 0;
    for (HostBatch b = eb.next(); b.rows > 0; b = eb.next()) {
      const torch::Tensor logits = batch_logits(b);  // [B, T, V], one case per row (pack off)
      const torch::Tensor targets = to_dev(b.targets, b.rows, b.cols);
      sum += nll_sum(logits, targets).item<double>();
      n += b.n_targets;
      exact += exact_rows(logits, targets);
      cases += b.rows;
    }
    EvalScore e;
    e.loss = n > 0 ? sum / static_cast<double>(n) : std::nan("");
    e.exact = cases > 0 ? static_cast<double>(exact) / static_cast<double>(cases) : std::nan("");
    return e;
  }
};

// Single-precision matmul speed of this libtorch on the CPU: Debian's libtorch calls the
// system BLAS, and the reference libblas is ~10x slower than OpenBLAS — worth a warning.
// Best of 5: the first calls also start the BLAS's threads.
double cpu_matmul_gflops() {
  torch::NoGradGuard ng;
  const torch::Tensor a = torch::ones({256, 256}), b = torch::ones({256, 256});
  double best = 1e30;
  for (int i = 0; i < 5; ++i) {
    const auto t = Clock::now();
    const torch::Tensor c = torch::mm(a, b);
    best = std::min(best, seconds_since(t));
  }
  return 2.0 * 256 * 256 * 256 / std::max(best, 1e-9) / 1e9;
}

}  // namespace

Tokenizer prepare_tokenizer(const Recipe& r, bool progress) {
  // Lexically normal: "run/../tok.gguf" names tok.gguf even while run/ does not exist yet, when
  // the kernel would report it missing and a second, different tokenizer would be trained.
  const std::string path = fs::path(r.tokenizer.path).lexically_normal().string();
  if (!fs::exists(path)) {
    if (!r.tokenizer.train_if_missing)
      throw Error("tokenizer file not found", "file '" + path + "'",
                  "create it with `paw tokenizer train`, or set tokenizer.train_if_missing in the recipe");
    // A byte-level BPE (Qwen2 pre-tokenizer, Qwen chat special tokens) on the train split.
    BpeTrainOptions bo;
    bo.vocab_size = r.tokenizer.vocab_size;
    BpeTrainer t(bo);
    const data::Generator gen(r.data.gen);
    const size_t n = std::min<size_t>(static_cast<size_t>(r.tokenizer.n_records), gen.count(data::Split::Train));
    for (size_t i = 0; i < n; ++i) {
      const data::Record rec = gen.record(data::Split::Train, i);
      t.add_text(rec.spec);
      t.add_text(rec.input);
      t.add_text(rec.output);
    }
    const BpeVocab v = t.train();
    make_parent(path);
    v.write_gguf(path);
    if (progress)
      std::fprintf(stderr, "[train] trained a %zu-token BPE tokenizer on %zu records -> %s\n", v.tokens.size(), n,
                   path.c_str());
  }
  return Tokenizer::load(path);
}

RunResult run_single_recipe(const Recipe& r, const RunOptions& opt) {
  if (r.mode == "compiler") return run_compiler_recipe(r, opt);
  Run run(r, opt);
  run.build();
  RunResult res;
  res.n_params = run.n_trainable();
  res.n_model_params = 0;
  for (const auto& p : run.model->parameters()) res.n_model_params += p.numel();

  if (opt.resume && fs::exists(run.ckpt_path)) {
    run.load_checkpoint();
  } else if (opt.resume) {
    if (opt.progress) std::fprintf(stderr, "[train] no checkpoint in %s: starting from step 0\n", r.checkpoint_dir.c_str());
  } else if (fs::exists(run.ckpt_path)) {
    throw Error("a checkpoint already exists", "'" + run.ckpt_path + "'",
                "pass --resume to continue it, or delete the checkpoint directory to start over");
  }
  res.first_step = run.step;
  const int64_t end = opt.max_steps >= 0 ? std::min(r.steps, opt.max_steps) : r.steps;

  make_parent(r.log_path);
  std::ofstream log(r.log_path, run.step > 0 ? std::ios::app : std::ios::trunc);
  if (!log) throw Error("cannot open the log file", "'" + r.log_path + "'");
  if (opt.progress)
    std::fprintf(stderr, "[train %s] %s %s: %lld trainable / %lld model parameters, device %s, precision %s, steps %lld..%lld of %lld\n",
                 r.name.c_str(), r.mode.c_str(), std::string(arch_name(run.model->hparams().arch)).c_str(),
                 static_cast<long long>(res.n_params), static_cast<long long>(res.n_model_params), opt.device.c_str(), r.precision.c_str(),
                 static_cast<long long>(run.step), static_cast<long long>(end), static_cast<long long>(r.steps));
  if (opt.progress) note_emulated_bf16(r, run.dev);

  if (opt.progress && run.dev.is_cpu()) {
    // On the 2-core machine of docs/TRAINING.md: OpenBLAS 70–100 GFLOP/s on this product when
    // a core is free (~8 while both are busy: hence the best of 5), the reference libblas 7.6.
    const double gf = cpu_matmul_gflops();
    if (gf < 15)
      std::fprintf(stderr,
                   "[train] warning: CPU matrix multiply runs at %.1f GFLOP/s: libtorch is using a slow BLAS "
                   "(Debian's reference libblas?). OpenBLAS is ~10x faster: see docs/TRAINING.md, \"Speed\"\n",
                   gf);
  }

  const auto t_start = Clock::now();
  std::vector<HostBatch> micro;  // the current step's micro-batches
  StepHooks h;
  h.trainable = run.trainable.get();
  h.optim = run.optim.get();
  h.step = &run.step;
  h.tokens_seen = &run.tokens_seen;
  h.set_lr = [&](double lr) {
    for (auto& g : run.optim->param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
  };
  h.next_micro_batch = [&](int64_t k, int64_t& n_tokens, int64_t& n_targets) {
    if (k == 0) micro.clear();
    micro.push_back(run.batcher->next());
    n_tokens = micro.back().n_tokens;
    n_targets = micro.back().n_targets;
  };
  h.micro_batch_loss_sum = [&](int64_t k) { return run.batch_loss_sum(micro[static_cast<size_t>(k)]); };
  h.evaluate = [&] { return run.evaluate(); };
  h.save_checkpoint = [&] { run.save_checkpoint(); };
  h.cursor_key = "examples";
  h.cursor = [&] { return static_cast<int64_t>(run.batcher->cursor()); };
  h.checkpoint_path = run.ckpt_path;
  run_steps(r, opt, end, h, log, res);

  if (!r.exp.path.empty()) {
    const auto type = dtype_from_name(r.exp.type);
    if (!type) throw Error("unknown export type '" + r.exp.type + "'", "recipe export.type", "use f32, f16, q8_0, ...");
    make_parent(r.exp.path);
    if (r.mode == "lora") {
      export_lora_gguf(run.lora->lora_set(), std::string(arch_name(run.model->hparams().arch)), r.exp.path, *type);
    } else {
      ExportOptions eo;
      eo.type = *type;
      eo.tokenizer = &run.tok;
      eo.name = "paw-train " + r.name;
      export_gguf(*run.model, r.exp.path, eo);
    }
    res.exported = r.exp.path;
    if (opt.progress) std::fprintf(stderr, "[train %s] exported %s\n", r.name.c_str(), r.exp.path.c_str());
  }
  if (opt.progress && run.step > res.first_step)
    std::fprintf(stderr, "[train %s] done: steps %lld..%lld, %.0f tok/s, %s\n", r.name.c_str(),
                 static_cast<long long>(res.first_step), static_cast<long long>(run.step), res.tokens_per_s,
                 fmt_duration(seconds_since(t_start)).c_str());
  return res;
}

}  // namespace paw::train
