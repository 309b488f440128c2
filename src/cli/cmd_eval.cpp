// `paw eval -m MODEL [-m MODEL2 ...] [--data FILE.jsonl | generator options] [--max-tokens N]
//           [--json] [-o REPORT] [--predictions FILE.jsonl] [-t THREADS]`
// Runs each model on the same cases in the prompted format (spec + [INPUT]/[END_INPUT] input ->
// answer, greedy until <|im_end|>), and prints a table of exact and normalised match per split
// and family, one column pair per model, with prompt/answer tokens/s, peak RSS and load time
// (paw/eval). Cases come from a JSONL file or from the FuzzyBench-synth generator; the
// generator defaults match train/recipes (seed 1, specs <= 1000 bytes), so the held-out
// splits are the ones the recipes never trained on.
#include <cstdio>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "paw/data/generator.hpp"
#include "paw/eval/evaluator.hpp"
#include "paw/eval/report.hpp"
#include "paw/util/atomic_file.hpp"
#include "paw/util/error.hpp"
#ifdef PAW_WITH_TORCH
#include "paw/train/finetune.hpp"
#endif
#include "paw/util/split.hpp"

namespace paw::cli {
namespace {

struct EvalCmdOptions {
  std::vector<std::string> models;
  std::vector<std::string> compilers;               // program columns on the first model
  std::vector<std::string> finetune;                // finetuned-program columns (libtorch builds)
  size_t examples = 0;                              // labelled cases per record for --finetune
  int64_t finetune_steps = -1;   // auto (FinetuneOptions)
  double finetune_lr = 0;        // auto
  double finetune_stop_loss = 0;   // off (FinetuneOptions)
  std::string finetune_init = "mapper";
  std::string mode = "prompted";
  std::string data;                                 // JSONL cases ("" = generator)
  data::GenOptions gen;                             // generator options (recipe defaults below)
  size_t n = 200;                                   // records per split from the generator
  std::string splits = "heldout_params,heldout_family";
  std::string families, heldout_families;           // comma lists ("" = generator defaults)
  eval::EvalOptions eval;
  int threads = 0;
  std::string kv_type = "f16";
  int64_t n_ctx = 0;
  bool json = false;
  bool no_families = false;
  bool quiet = false;
  std::string out;                                  // report file ("" = stdout only)
  std::string predictions;                          // per-case JSONL ("" = none)
};

data::Split parse_split(const std::string& s) {
  if (s == "train") return data::Split::Train;
  if (s == "heldout_params") return data::Split::HeldoutParams;
  if (s == "heldout_family") return data::Split::HeldoutFamily;
  throw Error("unknown split '" + s + "'", "--splits", "use train, heldout_params, heldout_family");
}

std::vector<eval::EvalCase> load_cases(EvalCmdOptions& o) {
  if (!o.data.empty()) return eval::jsonl_cases(o.data);
  std::vector<data::Split> splits;
  for (const std::string& s : split_commas(o.splits)) splits.push_back(parse_split(s));
  if (splits.empty()) throw Error("no split given", "--splits", "e.g. --splits heldout_params,heldout_family");
  if (!o.families.empty()) o.gen.families = split_commas(o.families);
  if (!o.heldout_families.empty()) o.gen.heldout_families = split_commas(o.heldout_families);
  o.gen.n_train = o.gen.n_heldout_params = o.gen.n_heldout_family = 0;
  for (data::Split s : splits) {
    (s == data::Split::Train ? o.gen.n_train : s == data::Split::HeldoutParams ? o.gen.n_heldout_params
                                                                                : o.gen.n_heldout_family) = o.n;
  }
  return eval::generator_cases(o.gen, splits, o.examples);
}

void write_predictions(const std::string& path, const std::vector<eval::EvalCase>& cases,
                       const std::vector<eval::ModelReport>& reports) {
  std::string text;
  for (const eval::ModelReport& r : reports) {
    for (size_t i = 0; i < cases.size(); ++i) {
      const eval::CaseResult& c = r.cases[i];
      nlohmann::ordered_json j;
      j["model"] = r.model;
      j["index"] = i;
      j["split"] = cases[i].split;
      j["family"] = cases[i].family;
      j["expected"] = cases[i].expected;
      j["prediction"] = c.prediction;
      j["exact"] = c.exact;
      j["normalised"] = c.normalised;
      j["skipped"] = c.skipped;
      j["prompt_tokens"] = c.prompt_tokens;
      j["answer_tokens"] = c.answer_tokens;
      text += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
  }
  atomic_write_file(path, text);
}

void run_eval(EvalCmdOptions& o) {
  if (o.mode != "prompted" && o.mode != "program")
    throw Error("unknown mode '" + o.mode + "'", "--mode",
                "prompted: the spec in the prompt; program: each spec compiled with --compiler");
  if (o.mode == "program" && o.compilers.empty())
    throw Error("--mode program needs a compiler", "--compiler", "e.g. --compiler models/trained/C.gguf");
  if (!o.compilers.empty() && o.models.size() != 1 && o.mode == "program")
    throw Error("program mode runs on one interpreter", "-m", "give one -m (the compiler's interpreter)");
  if (o.kv_type != "f16" && o.kv_type != "f32") throw Error("must be f16 or f32", "--kv-type");
  o.eval.session.n_threads = o.threads;
  o.eval.session.n_ctx = o.n_ctx;
  o.eval.session.kv_type = o.kv_type == "f32" ? DType::F32 : DType::F16;

  const std::vector<eval::EvalCase> cases = load_cases(o);
  std::vector<eval::ModelReport> reports;
  auto progress_for = [&](const std::string& label) {
    if (o.quiet) return std::function<void(size_t, size_t)>{};
    return std::function<void(size_t, size_t)>([label](size_t done, size_t total) {
      if (done % 50 == 0 || done == total) std::fprintf(stderr, "\r[eval %s] %zu/%zu", label.c_str(), done, total);
      if (done == total) std::fputc('\n', stderr);
    });
  };
  if (o.mode == "prompted") {
    for (const std::string& m : o.models) {
      o.eval.progress = progress_for(m);
      reports.push_back(eval::evaluate_file(m, cases, o.eval));
    }
  }
  // Program columns: every compiler on the first model (the interpreter it was trained for).
  for (const std::string& c : o.compilers) {
    o.eval.progress = progress_for(c);
    reports.push_back(eval::evaluate_programs(o.models.front(), c, cases, o.eval));
  }

  // Finetuned-program columns: each record's spec finetuned on its --examples labelled cases.
  for (const std::string& c : o.finetune) {
#ifdef PAW_WITH_TORCH
    eval::EvalOptions fo = o.eval;
    fo.progress = progress_for(c + " (finetune)");
    const std::string interp = o.models.front();
    const int64_t steps = o.finetune_steps;
    const int threads = o.threads;
    const double lr = o.finetune_lr;
    const double stop_loss = o.finetune_stop_loss;
    const bool init_mapper = o.finetune_init == "mapper";
    fo.make_program = [interp, steps, threads, lr, stop_loss, init_mapper](const compiler::Compiler& comp, const eval::EvalCase& ec) {
      std::vector<train::FinetuneExample> ex;
      for (const auto& [in, out] : ec.examples) ex.push_back({in, out});
      train::FinetuneOptions fopt;
      fopt.steps = steps;
      fopt.threads = threads;
      fopt.lr = lr;
      fopt.stop_loss = stop_loss;
      fopt.init_mapper = init_mapper;
      return train::finetune_compile(comp, interp, ec.spec, ex, fopt).program;
    };
    fo.make_program_label = "program (finetuned, " + std::to_string(o.examples) + " examples)";
    reports.push_back(eval::evaluate_programs(o.models.front(), c, cases, fo));
#else
    throw Error("--finetune " + c + " needs the training layer (libtorch)", "paw eval", "build with -DPAW_WITH_TORCH=ON");
#endif
  }

  eval::ReportOptions ro;
  ro.per_family = !o.no_families;
  const std::string text = o.json ? eval::json_report(reports).dump(2) + "\n" : eval::markdown_report(reports, ro);
  std::fputs(text.c_str(), stdout);
  if (!o.out.empty()) atomic_write_file(o.out, text);
  if (!o.predictions.empty()) write_predictions(o.predictions, cases, reports);
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto o = std::make_shared<EvalCmdOptions>();
  o->gen.max_spec_chars = 1000;  // as in train/recipes
  auto* cmd = app.add_subcommand(
      "eval", "Score models on (spec, input, output) cases: exact / normalised match per split and family, speed, memory");
  cmd->add_option("-m,--model", o->models, "Model GGUF (repeat to compare models side by side)")->required();
  cmd->add_option("--mode", o->mode,
                  "prompted: each -m model with the spec in its prompt (plus any --compiler columns); program: only "
                  "the --compiler columns")
      ->capture_default_str();
  cmd->add_option("--compiler", o->compilers,
                  "Compiler GGUF: adds a column where each spec is compiled into a program run on the first -m model "
                  "(repeatable, e.g. the compiler and its control)");
  cmd->add_option("--expert", o->eval.expert,
                  "--compiler columns of an experts compiler: every spec gets this expert's program (e.g. date_norm)");
  cmd->add_flag("--expert-check", o->eval.expert_check,
               "--compiler columns of an experts compiler: check the router's choice with each spec's Input:/Output: "
               "examples (paw compile --expert-check)");
  cmd->add_option("--finetune", o->finetune,
                  "Compiler GGUF whose programs are finetuned per record on --examples labelled cases, starting "
                  "from the mapper's program unless --finetune-init zero (libtorch builds; repeatable)");
  cmd->add_option("--examples", o->examples, "Generator: labelled cases per record for --finetune (beside the spec's own)")
      ->capture_default_str();
  cmd->add_option("--finetune-steps", o->finetune_steps, "Optimizer steps of each finetune; -1 = auto: 120 with 16 or more examples, else 40")->capture_default_str();
  cmd->add_option("--finetune-lr", o->finetune_lr, "AdamW learning rate of each finetune; 0 = auto: 1e-3 with 16 or more examples, else 5e-4")->capture_default_str();
  cmd->add_option("--finetune-stop-loss", o->finetune_stop_loss, kFinetuneStopLossHelp)->capture_default_str();
  cmd->add_option("--finetune-init", o->finetune_init, "Start each finetune from the mapper's program or from zero")
      ->capture_default_str()
      ->check(CLI::IsMember({"mapper", "zero"}));
  cmd->add_option("--data", o->data, "JSONL cases with spec, input, output (optional family, split); default: the generator");
  cmd->add_option("--seed", o->gen.seed, "Generator seed (train/recipes use 1)")->capture_default_str();
  cmd->add_option("-n,--n", o->n, "Generator records per split (the first N of each)")->capture_default_str();
  cmd->add_option("--splits", o->splits, "Comma-separated generator splits: train, heldout_params, heldout_family")
      ->capture_default_str();
  cmd->add_option("--families", o->families, "Comma-separated families (default: all but the copy tasks; see `paw data families`)");
  cmd->add_option("--heldout-families", o->heldout_families,
                  "Families kept out of train (default: keyword_tag,pii_redact, as in training)");
  cmd->add_option("--max-spec-chars", o->gen.max_spec_chars, "Longest generated spec in bytes (train/recipes use 1000)")
      ->capture_default_str();
  cmd->add_option("--noise", o->gen.noise_rate, "Probability of a noisy input")->capture_default_str();
  cmd->add_option("--max-tokens", o->eval.max_tokens, "Most answer tokens per case (a longer answer fails)")
      ->capture_default_str();
  cmd->add_option("-t,--threads", o->threads, "Threads (0 = one per physical core)")->capture_default_str();
  cmd->add_option("--kv-type", o->kv_type, "KV cache type: f16 or f32")->capture_default_str();
  cmd->add_option("-c,--ctx", o->n_ctx, "Context positions (0 = the model's, at most 2048)")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print the report as JSON instead of Markdown");
  cmd->add_flag("--no-families", o->no_families, "Markdown: only the per-split rows");
  cmd->add_option("-o,--output", o->out, "Also write the report to this file");
  cmd->add_option("--predictions", o->predictions, "Write every case's prediction and score as JSONL");
  cmd->add_flag("--quiet", o->quiet, "No progress on stderr");
  cmd->callback([o] { run_eval(*o); });
}

}  // namespace paw::cli
