#include "cli/run_setup.hpp"

#include "paw/program/base_model.hpp"
#include "paw/program/program_bundle.hpp"
#include "paw/util/error.hpp"

namespace paw::cli {
namespace {

ProgramOptions program_options(const ProgramFlags& f) {
  ProgramOptions po;
  po.prefix_cache = !f.no_prefix_cache;
  po.offline = offline_mode(f.offline);
  po.model_override = f.model;
  po.interpreter.n_threads = f.threads;
  po.interpreter.interleave = !f.no_interleave;
  if (f.kv_type != "f16" && f.kv_type != "f32")
    throw Error("unknown KV cache type '" + f.kv_type + "'", "--kv-type", "use f16 (default) or f32 (exact mode)");
  po.interpreter.kv_type = f.kv_type == "f32" ? DType::F32 : DType::F16;
  return po;
}

BaseModelOptions base_options(const ProgramFlags& f) {
  BaseModelOptions bo;
  bo.model_override = f.model;
  bo.offline = offline_mode(f.offline);
  return bo;
}

}  // namespace

void add_program_flags(CLI::App* cmd, ProgramFlags& f) {
  cmd->add_option("--model", f.model, "Base model GGUF to run on (default: $PAW_MODEL, else the cache's base_models/)");
  cmd->add_flag("--offline", f.offline, "Never download anything (also PAW_OFFLINE=1)");
  cmd->add_flag("--no-prefix-cache", f.no_prefix_cache, "Do not read or write the program's prefix_kv_cache.bin");
  cmd->add_option("-t,--threads", f.threads, "Threads per evaluation (0 = one per physical core)")->capture_default_str();
  cmd->add_option("--max-tokens", f.max_tokens, "Most tokens to generate (-1 = until EOS or the context is full)")
      ->capture_default_str();
  cmd->add_flag("--no-interleave", f.no_interleave, kNoInterleaveHelp);
  cmd->add_option("--kv-type", f.kv_type, "KV cache type: f16 (as the reference) or f32 (exact mode, for checks)")
      ->capture_default_str();
}

Program open_program_from_flags(const std::string& ref, const ProgramFlags& f) {
  ProgramOptions po = program_options(f);
  ProgramBundle b = load_program(ref, po);
  ResolvedBaseModel r = resolve_base_model(b.meta, base_options(f));
  Interpreter interp = Interpreter::open(r.path, po.interpreter);
  return Program::open(std::move(b), interp, po);
}

Program open_base_from_flags(const std::string& base, const ProgramFlags& f) {
  if (base != "qwen3" && base != "gpt2")
    throw Error("unknown base interpreter '" + base + "'", "--base", "use --base qwen3 or --base gpt2");
  auto manifest = builtin_runtime_manifest(base == "qwen3" ? "Qwen/Qwen3-0.6B" : "gpt2");
  ResolvedBaseModel r = resolve_base_model(*manifest, base_options(f));
  ProgramOptions po = program_options(f);
  Interpreter interp = Interpreter::open(r.path, po.interpreter);
  if (interp.arch() != base)
    throw Error("--base " + base + " needs a " + base + " model, but " + r.path + " is " + interp.arch(), r.path,
                "pass a " + base + " GGUF with --model, or use --base " + interp.arch());
  return Program::base(interp, po);
}

}  // namespace paw::cli
