// Evaluation of compiled programs (see paw/eval/evaluator.hpp, mode "program").
#include <filesystem>
#include <map>
#include <optional>

#include "eval/tally.hpp"
#include "paw/compiler/compiler.hpp"
#include "paw/eval/evaluator.hpp"
#include "paw/eval/match.hpp"
#include "paw/interpreter.hpp"
#include "paw/program/program_bundle.hpp"
#include "paw/run.hpp"
#include "paw/util/error.hpp"
#include "paw/util/process_memory.hpp"

namespace paw::eval {

ModelReport evaluate_programs(const std::string& interpreter_path, const std::string& compiler_path,
                              std::span<const EvalCase> cases, const EvalOptions& opt) {
  if (opt.max_tokens < 1) throw Error("max_tokens must be at least 1", "evaluation");
  reset_peak_rss();
  const auto t0 = Clock::now();
  const compiler::Compiler comp = compiler::Compiler::open(compiler_path);
  comp.check_interpreter(interpreter_path);
  InterpreterOptions io;
  io.n_threads = opt.session.n_threads;
  io.max_sessions = 1;
  if (opt.session.n_ctx > 0) io.n_ctx = opt.session.n_ctx;
  const Interpreter interp = Interpreter::open(interpreter_path, io);
  std::unique_ptr<compiler::ExpertCheck> check;
  compiler::CompileOptions co;
  co.expert = opt.expert;
  if (opt.expert_check && opt.expert.empty() && !opt.make_program && !comp.info().experts.empty() && comp.info().spec_conditioned) {
    compiler::ExpertCheckOptions eo;
    eo.n_threads = opt.session.n_threads;
    check = compiler::ExpertCheck::open(comp, interpreter_path, eo, comp.info().interp_sha256);
    co.expert_check = check.get();
  }

  ModelReport rep;
  rep.model = std::filesystem::path(interpreter_path).filename().string() + " + " +
              std::filesystem::path(compiler_path).filename().string();
  rep.mode = opt.make_program ? opt.make_program_label : comp.info().spec_conditioned ? "program" : "program (control)";
  if (check) rep.n_expert_by_examples = 0;
  if (!opt.expert.empty()) rep.mode += " (expert " + opt.expert + ")";
  if (opt.make_program) rep.model += " finetuned";   // the column header tells it from the mapper's
  rep.load_seconds = seconds_since(t0);
  rep.compiler_params = comp.info().encoder_params;

  ProgramOptions po;
  po.prefix_cache = false;
  po.import_into_cache = false;
  po.log = [](std::string_view, std::string_view) {};
  // By spec (each spec is compiled once); a finetuned program also depends on its examples.
  // nullopt: the spec does not compile (longer than the encoder reads), and its cases are skipped.
  std::map<std::string, std::optional<Program>> programs;
  RunOptions ro;
  ro.max_tokens = opt.max_tokens;
  rep.cases.reserve(cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const EvalCase& c = cases[i];
    std::string key = c.spec;
    if (opt.make_program)
      for (const auto& [in, out] : c.examples) key += "\x1f" + in + "\x1e" + out;
    auto it = programs.find(key);
    if (it == programs.end()) {
      const auto tc = Clock::now();
      std::optional<compiler::CompiledProgram> cp;
      try {
        cp = opt.make_program ? opt.make_program(comp, c) : comp.compile(c.spec, co);
      } catch (const Error& e) {
        // A spec the compiler cannot read (too long for its encoder) costs its cases, like a
        // prompt that does not fit; any other error (an unknown expert, a bad option) stops.
        if (e.where() != "spec") throw;
      }
      if (!cp) {
        it = programs.emplace(key, std::nullopt).first;
      } else {
        if (cp->expert_chosen_by == "examples") ++rep.n_expert_by_examples;
        rep.compile_seconds += seconds_since(tc);
        ++rep.n_compiled;
        rep.adapter_bytes = cp->bundle.adapter.size();
        const auto tp = Clock::now();
        it = programs.emplace(key, Program::open(ProgramBundle::from_bundle(std::move(cp->bundle)), interp, po)).first;
        rep.prompt_seconds += seconds_since(tp);  // the prefix evaluation
        rep.prompt_tokens += it->second->prefix_tokens();
      }
    }
    // Skipped (scored wrong): a case whose spec did not compile, or that does not fit the context.
    CaseResult r;
    r.skipped = !it->second;
    if (it->second) {
      try {
        const auto tr = Clock::now();
        const RunResult rr = it->second->run(c.input, ro);
        rep.answer_seconds += seconds_since(tr);
        r.prompt_tokens = rr.prefix_tokens + rr.input_tokens;
        r.answer_tokens = static_cast<int64_t>(rr.ids.size());
        r.prediction = rr.output;
        r.exact = exact_match(r.prediction, c.expected);
        r.normalised = r.exact || normalised_match(r.prediction, c.expected);
        rep.answer_tokens += r.answer_tokens;
      } catch (const Error&) {
        r.skipped = true;
      }
    }
    if (r.skipped) ++rep.n_skipped;
    tally(rep, c, r);
    rep.cases.push_back(std::move(r));
    if (programs.size() > 64) programs.clear();  // keep memory flat over thousands of specs
    if (opt.progress) opt.progress(i + 1, cases.size());
  }
  rep.n_params = interp.model().n_params();
  rep.model_bytes = std::filesystem::file_size(interpreter_path);
  rep.peak_rss_bytes = peak_rss_bytes();
  return rep;
}

}  // namespace paw::eval
