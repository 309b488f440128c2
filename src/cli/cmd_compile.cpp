// `paw compile --spec TEXT | --spec-file F [--compiler C.gguf] [-o prog.paw] [--adapter-type T]
//              [--interpreter FILE] [--json]`
// Compiles a spec into a program with a compiler GGUF (native: no libtorch). With -o the
// bundle is written there; without, it is stored in the program cache ($PAW_CACHE_DIR) and
// runs by id (`paw run ID`). The compiler: --compiler, else $PAW_COMPILER, else the shipped
// models/trained/C.gguf when paw runs from its build tree.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>

#include "cli/commands.hpp"
#include "paw/compiler/compiler.hpp"
#include "paw/compiler/spec_examples.hpp"
#include "paw/program/base_model.hpp"
#include "paw/program/cache.hpp"
#include "paw/program/slugs.hpp"
#include "paw/util/error.hpp"
#ifdef PAW_WITH_TORCH
#include "paw/train/finetune.hpp"
#endif

namespace paw::cli {
namespace {

struct CompileCliOptions {
  std::string spec, spec_file, compiler, out, adapter_type, interpreter, cache_dir;
  std::string name, slug;   // display name; slug (default: made from the name)
  // --method finetune (libtorch builds): a per-spec LoRA trained on the frozen interpreter.
  std::string method = "mapper", examples, init = "mapper";
  int64_t steps = -1;   // auto (FinetuneOptions)
  double lr = 0;        // auto
  double stop_loss = 0;  // off (FinetuneOptions)
  uint64_t seed = 1;
  int threads = 0;
  bool json = false;
  bool expert_check = false;  // experts compilers: check the router with the spec's examples (opt in)
  std::string expert;        // experts compilers: this expert's program, not the router's choice
};

// compiler::find_default_compiler, or an error saying where a compiler may come from.
std::string find_compiler(const std::string& given, const std::string& cache_dir) {
  std::string c = compiler::find_default_compiler(given, cache_dir);
  if (c.empty())
    throw Error("no compiler given", "paw compile",
                "pass --compiler FILE.gguf, set PAW_COMPILER, or put one in $PAW_CACHE_DIR/compilers/ "
                "(the shipped one is models/trained/C.gguf)");
  return c;
}

std::string read_spec(const CompileCliOptions& o) {
  if (!o.spec.empty() && !o.spec_file.empty())
    throw Error("give the spec once: --spec or --spec-file", "paw compile");
  if (o.spec_file.empty()) return o.spec;
  std::ifstream in(o.spec_file, std::ios::binary);
  if (!in) throw Error("cannot read the spec file", o.spec_file, "check the path");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "expert NAME (routing weight W)", or, when the spec's examples overruled the router, which
// expert answered how many of them.
void print_expert(const compiler::CompiledProgram& p) {
  const auto score_of = [&](const std::string& name) {
    for (const auto& s : p.example_scores)
      if (s.expert == name) return s;
    return compiler::ExpertExampleScore{};
  };
  if (p.expert_chosen_by == "option") {
    std::printf("expert %s (chosen with --expert)\n", p.expert.c_str());
    return;
  }
  if (p.expert_chosen_by != "examples") std::printf("expert %s (routing weight %.2f)\n", p.experts[0].name.c_str(), p.experts[0].weight);
  if (p.expert_chosen_by == "examples") {
    const auto chosen = score_of(p.expert), routed = score_of(p.experts[0].name);
    std::printf("expert %s (chosen by the spec's examples: it answers %lld of %lld, the router's %s %lld)\n",
                p.expert.c_str(), static_cast<long long>(chosen.answered), static_cast<long long>(chosen.n_examples),
                routed.expert.c_str(), static_cast<long long>(routed.answered));
  }
}

// --expert-check: how each expert's program does on the spec's examples, best first.
void print_example_scores(const compiler::CompiledProgram& p) {
  std::vector<compiler::ExpertExampleScore> s = p.example_scores;
  std::stable_sort(s.begin(), s.end(), [](const auto& a, const auto& b) {
    return a.answered != b.answered ? a.answered > b.answered : a.nll_per_token < b.nll_per_token;
  });
  std::printf("the spec's %lld examples through each expert's program (answered, answer loss in nats per token):\n",
              static_cast<long long>(s.front().n_examples));
  for (const auto& e : s)
    std::printf("  %-16s %lld/%lld  %.3f\n", e.expert.c_str(), static_cast<long long>(e.answered),
                static_cast<long long>(e.n_examples), e.nll_per_token);
}

void run_compile(const CompileCliOptions& o) {
  // Check the slug before any work, so a bad one costs nothing and writes nothing.
  std::string slug = o.slug;
  if (slug.empty() && !o.name.empty()) slug = slugify(o.name);
  if (!slug.empty()) SlugRegistry::check(slug);
  const std::string spec = read_spec(o);
  const compiler::Compiler c = compiler::Compiler::open(find_compiler(o.compiler, o.cache_dir));
  if (!o.interpreter.empty()) c.check_interpreter(o.interpreter);
  // The interpreter file the compiler pins, where it usually sits: beside the compiler.
  const std::string beside = (std::filesystem::path(c.info().path).parent_path() / c.info().interp_name).string();
  ProgramCache cache(o.cache_dir);
  compiler::CompileOptions co;
  co.adapter_type = o.adapter_type;
  co.n_threads = o.threads;
  co.expert = o.expert;
  // --expert-check: an experts compiler checks its router with the spec's examples on the
  // interpreter (--interpreter, else the compiler's pinned file beside it).
  std::unique_ptr<compiler::ExpertCheck> check;
  if (o.expert_check && o.expert.empty() && o.method == "mapper" && !c.info().experts.empty() && c.info().spec_conditioned) {
    const std::string interp = o.interpreter.empty() ? beside : o.interpreter;
    if (compiler::spec_examples(spec).empty()) {
      std::fprintf(stderr, "paw: note: --expert-check: the spec has no Input:/Output: examples, so the router alone chose\n");
    } else if (!std::filesystem::exists(interp)) {
      throw Error("--expert-check runs the spec's examples on the compiler's interpreter, which is not here", interp,
                  "pass --interpreter FILE.gguf");
    } else {
      compiler::ExpertCheckOptions eo;
      eo.n_threads = o.threads;
      check = compiler::ExpertCheck::open(c, interp, eo);
      co.expert_check = check.get();
    }
  }
  nlohmann::ordered_json finetune_report;
  const compiler::CompiledProgram p = [&] {
    if (o.method == "mapper") return c.compile(spec, co);
#ifdef PAW_WITH_TORCH
    // The interpreter: --interpreter, else the compiler's pinned file beside the compiler.
    const std::string interp = o.interpreter.empty() ? beside : o.interpreter;
    if (!std::filesystem::exists(interp))
      throw Error("finetuning needs the compiler's interpreter file", interp, "pass --interpreter FILE.gguf");
    train::FinetuneOptions fo;
    fo.steps = o.steps;
    fo.lr = o.lr;
    fo.stop_loss = o.stop_loss;
    fo.seed = o.seed;
    fo.threads = o.threads;
    fo.init_mapper = o.init == "mapper";
    const std::vector<train::FinetuneExample> extra =
        o.examples.empty() ? std::vector<train::FinetuneExample>{} : train::read_examples_jsonl(o.examples);
    if (const size_t n = train::spec_examples(spec).size() + extra.size(); n < 8)
      std::fprintf(stderr, "paw: note: finetuning on %zu examples may overfit them; ~20 (--examples FILE.jsonl) "
                           "is what it is measured with (docs/TRAINING.md)\n",
                   n);
    train::FinetuneResult fr = train::finetune_compile(c, interp, spec, extra, fo, o.adapter_type);
    finetune_report = {{"examples", fr.n_examples},   {"skipped", fr.n_skipped},     {"steps", fr.steps_run}, {"lr", fr.lr},
                       {"first_loss", fr.first_loss}, {"final_loss", fr.final_loss}, {"seconds", fr.seconds}};
    return std::move(fr.program);
#else
    throw Error("--method finetune needs the training layer (libtorch)", "paw compile",
                "build with -DPAW_WITH_TORCH=ON (scripts/setup.sh --torch), or use the default --method mapper");
#endif
  }();

  std::string where;
  bool cached = false;
  if (!o.out.empty()) {
    p.write(o.out);
    where = o.out;
  }
  // A slug names a program in the cache, so with -o the program goes there too.
  if (o.out.empty() || !slug.empty()) {
    const ImportResult r = cache.import(p.bundle);
    if (o.out.empty()) where = r.dir;
    cached = r.already_present;
  }
  std::optional<SlugAssignment> assigned;
  if (!slug.empty()) assigned = SlugRegistry(cache.root()).assign(slug, p.program_id, o.name);
  // A program stored in the cache runs by id or slug once its interpreter is in the cache's
  // base_models/: put the compiler's own there (the file beside it, checked by hash).
  bool base_ready = false;
  if (o.out.empty() || assigned) {
    base_ready = std::filesystem::exists(cache.base_models_dir() + "/" + c.info().interp_name);
    if (!base_ready && std::filesystem::exists(beside)) {
      try {
        c.check_interpreter(beside);
        install_base_model(beside, cache.root());
        base_ready = true;
        std::fprintf(stderr, "paw: note: copied the interpreter %s into %s\n", beside.c_str(), cache.base_models_dir().c_str());
      } catch (const Error& e) {
        std::fprintf(stderr, "paw: note: the interpreter was not copied into the cache (%s)\n", e.what());
      }
    }
  }
  const compiler::CompilerInfo& ci = c.info();
  if (o.json) {
    const compiler::CompileTimings& t = p.timings;
    nlohmann::ordered_json j;
    j["program_id"] = p.program_id;
    j["slug"] = assigned ? nlohmann::ordered_json(assigned->slug) : nlohmann::ordered_json(nullptr);
    j["version"] = assigned ? nlohmann::ordered_json(assigned->version) : nlohmann::ordered_json(nullptr);
    j["version_action"] = assigned ? nlohmann::ordered_json(assigned->action) : nlohmann::ordered_json(nullptr);
    j["name"] = o.name.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(o.name);
    j["status"] = "ready";
    j["cached"] = cached;
    j["path"] = where;
    j["compiler_snapshot"] = ci.name;
    j["compiler_fingerprint"] = ci.fingerprint;
    j["compiler_kind"] = p.bundle.meta.json.value("compiler_kind", "");
    if (!finetune_report.is_null()) j["finetune"] = finetune_report;
    j["pseudo_program_strategy"] = co.pseudo_program_strategy;
    j["interpreter"] = ci.interp_name;
    j["runtime_id"] = p.bundle.meta.runtime_id.value_or("");
    j["spec_conditioned"] = ci.spec_conditioned;
    j["encoder_tokens"] = p.encoder_tokens;
    if (!p.experts.empty()) {  // heaviest first
      nlohmann::ordered_json ex = nlohmann::ordered_json::array();
      for (const auto& route : p.experts) ex.push_back({{"name", route.name}, {"weight", route.weight}});
      j["experts"] = ex;
      j["expert"] = p.expert;
      j["expert_chosen_by"] = p.expert_chosen_by;
      if (!p.example_scores.empty()) {  // compiler order
        nlohmann::ordered_json sc = nlohmann::ordered_json::array();
        for (const auto& s : p.example_scores)
          sc.push_back({{"name", s.expert}, {"answered", s.answered}, {"examples", s.n_examples}, {"nll_per_token", s.nll_per_token}});
        j["expert_check"] = sc;
      }
    }
    j["adapter_bytes"] = p.bundle.adapter.size();
    j["base_model_in_cache"] = base_ready;
    j["timings"] = {{"encoder_ms", t.encoder_ms}, {"mapper_ms", t.mapper_ms}, {"adapter_ms", t.adapter_ms},
                    {"bundle_ms", t.bundle_ms},   {"expert_check_ms", t.expert_check_ms}, {"total_ms", t.total_ms}};
    std::puts(j.dump().c_str());
  } else {
    std::printf("%s program %s -> %s (%.0f ms)\n", cached ? "cached" : "compiled", p.program_id.c_str(), where.c_str(),
                p.timings.total_ms);
    if (assigned)
      std::printf("slug %s@v%d (%s)\n", assigned->slug.c_str(), assigned->version,
                  assigned->action == "unchanged" ? "already the latest version" : assigned->action == "created" ? "new slug" : "new version");
    if (!p.experts.empty()) print_expert(p);
    if (!p.example_scores.empty()) print_example_scores(p);
    if (!ci.spec_conditioned)
      std::fprintf(stderr, "paw: note: %s is a control compiler: it ignores the spec (one adapter for every spec)\n",
                   ci.name.c_str());
    if (o.out.empty() || assigned) {
      std::printf("run it: paw run %s INPUT%s\n", assigned ? assigned->slug.c_str() : p.program_id.c_str(),
                  base_ready ? "" : " --model FILE");
    } else {
      std::printf("run it: paw run %s INPUT --model %s\n", o.out.c_str(), (o.interpreter.empty() ? beside : o.interpreter).c_str());
    }
  }
}

}  // namespace

void add_compile_command(CLI::App& app) {
  auto o = std::make_shared<CompileCliOptions>();
  auto* cmd = app.add_subcommand("compile", "Compile a spec into a program (.paw) with a compiler GGUF");
  cmd->add_option("--spec,-s", o->spec, "The spec: what the function does, ideally with a few Input/Output examples");
  cmd->add_option("--spec-file", o->spec_file, "Read the spec from a file");
  cmd->add_option("--compiler,-c", o->compiler,
                  "Compiler GGUF (default: $PAW_COMPILER, else the shipped models/trained/C.gguf)");
  cmd->add_option("-o,--output", o->out, "Write the .paw here (default: store it in the program cache)");
  cmd->add_option("--adapter-type", o->adapter_type, "Adapter weights: f32, f16, q8_0 or q4_0 (default: the compiler's, q4_0)");
  cmd->add_option("--interpreter", o->interpreter,
                  "Check that this interpreter GGUF is the one the compiler was trained for (size and SHA-256)");
  cmd->add_option("--cache-dir", o->cache_dir, "Program cache (default: $PAW_CACHE_DIR or ~/.cache/programasweights)");
  cmd->add_option("--slug", o->slug,
                  "Name the program in the cache (a-z 0-9 - _, optionally owner/slug); again under the same slug "
                  "makes a new version: `paw run SLUG` runs the latest, SLUG@v1 the first");
  cmd->add_option("--method", o->method,
                  "mapper: the compiler's encoder and mapper (milliseconds); finetune: also train a LoRA on the "
                  "frozen interpreter from the spec's Input:/Output: examples and --examples (seconds; libtorch builds)")
      ->check(CLI::IsMember({"mapper", "finetune"}))
      ->capture_default_str();
  cmd->add_option("--examples", o->examples, "finetune: more {\"input\", \"output\"} cases, one JSON object per line");
  cmd->add_option("--init", o->init, "finetune: start from a zero adapter or from the mapper's program")
      ->check(CLI::IsMember({"zero", "mapper"}))
      ->capture_default_str();
  cmd->add_option("--steps", o->steps, "finetune: optimizer steps (each on every example when there are 8 or fewer, else on 8 drawn); -1 = auto: 120 with 16 or more examples, else 40")->capture_default_str();
  cmd->add_option("--lr", o->lr, "finetune: AdamW learning rate; 0 = auto: 1e-3 with 16 or more examples, else 5e-4")->capture_default_str();
  cmd->add_option("--stop-loss", o->stop_loss, kFinetuneStopLossHelp)->capture_default_str();
  cmd->add_option("--seed", o->seed, "finetune: seed (same seed, examples and threads -> the same program)")
      ->capture_default_str();
  cmd->add_option("-t,--threads", o->threads, "Threads (0 = one per physical core; finetune: libtorch's default)")
      ->capture_default_str();
  cmd->add_option("--expert", o->expert,
                  "Experts compilers: use this expert's program (e.g. date_norm; `paw info` on the compiler lists "
                  "them) instead of the one the router and the spec's examples choose");
  cmd->add_flag("--expert-check", o->expert_check,
               "Experts compilers (the shipped one): run the spec's Input:/Output: examples through every expert's "
               "program on the interpreter (--interpreter, else the file beside the compiler), print how each does "
               "(--json: expert_check), and use an expert that answers more of them than the router's choice "
               "(measured: no better than the router on held-out specs; docs/TRAINING.md)");
  cmd->add_option("--name", o->name, "Display name of the program (also gives the slug when --slug is absent)");
  cmd->add_flag("--json", o->json,
                "Print one JSON object: program_id, slug, version, version_action, status, cached, path, compiler, timings "
                "(and experts: where an experts compiler, such as the shipped one, routed the spec)");
  cmd->callback([o] { run_compile(*o); });
}

}  // namespace paw::cli
