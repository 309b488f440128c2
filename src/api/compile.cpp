// paw::Compiler (paw/compile.hpp): the public face of compiler::Compiler.
#include "paw/compile.hpp"

#include "api/run_internal.hpp"
#include "paw/compiler/compiler.hpp"
#include "paw/program/program_bundle.hpp"
#include "paw/util/atomic_file.hpp"
#include "paw/util/error.hpp"

namespace paw {

void CompileResult::write(const std::string& path) const { atomic_write_file(path, paw); }

Compiler Compiler::open(const std::string& path) {
  const std::string file = compiler::find_default_compiler(path, {});
  if (file.empty())
    throw Error("no compiler found", "paw::Compiler::open",
                "pass a compiler file, set PAW_COMPILER, or put one *.gguf in $PAW_CACHE_DIR/compilers/");
  return Compiler(std::make_shared<const compiler::Compiler>(compiler::Compiler::open(file)));
}

const std::string& Compiler::path() const { return impl_->info().path; }
const std::string& Compiler::name() const { return impl_->info().name; }
const std::string& Compiler::interpreter_sha256() const { return impl_->info().interp_sha256; }
bool Compiler::spec_conditioned() const { return impl_->info().spec_conditioned; }
const std::vector<std::string>& Compiler::experts() const { return impl_->info().experts; }

// The interpreter's own remembered hash: the model file is not read again for every compile.
void Compiler::check_interpreter(const Interpreter& interp) const {
  impl_->check_interpreter(interp.path(), interp.model_sha256());
}

namespace {

// The layer's options, with an expert check on `check_with` when it applies (kept alive in `check`).
compiler::CompileOptions layer_options(const compiler::Compiler& c, const CompileOptions& o, const Interpreter* check_with,
                                       std::unique_ptr<compiler::ExpertCheck>& check) {
  compiler::CompileOptions co;
  co.adapter_type = o.adapter_type;
  co.n_threads = o.n_threads;
  co.expert = o.expert;
  if (check_with && o.expert_check && o.expert.empty() && !c.info().experts.empty() && c.info().spec_conditioned) {
    c.check_interpreter(check_with->path(), check_with->model_sha256());
    compiler::ExpertCheckOptions eo;
    eo.n_threads = o.n_threads;
    check = std::make_unique<compiler::ExpertCheck>(run_detail::InterpreterAccess::of(*check_with).model, eo);
    co.expert_check = check.get();
  }
  return co;
}

}  // namespace

CompileResult Compiler::compile(std::string_view spec, const CompileOptions& o) const {
  std::unique_ptr<compiler::ExpertCheck> check;
  const compiler::CompiledProgram p = impl_->compile(spec, layer_options(*impl_, o, o.check_with, check));
  CompileResult r;
  r.program_id = p.program_id;
  r.pseudo_program = p.pseudo_program;
  r.paw = p.paw_bytes();
  r.compile_ms = p.timings.total_ms;
  for (const auto& route : p.experts) r.experts.push_back({route.name, route.weight});
  r.expert = p.expert;
  r.expert_chosen_by = p.expert_chosen_by;
  return r;
}

Program Compiler::compile_program(std::string_view spec, const Interpreter& interp, const CompileOptions& o,
                                  const ProgramOptions& po) const {
  check_interpreter(interp);
  std::unique_ptr<compiler::ExpertCheck> check;
  compiler::CompiledProgram p = impl_->compile(spec, layer_options(*impl_, o, &interp, check));
  return Program::open(ProgramBundle::from_bundle(std::move(p.bundle)), interp, po);
}

}  // namespace paw
