// paw::Program: opening (adapter, base check, prefix KV from disk or evaluated) and calls
// (tokenize input + suffix, restore the prefix, generate to EOS, detokenize, trim).
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "paw/adapter/lora.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/model/convert.hpp"
#include "paw/program/base_model.hpp"
#include "paw/program/cache.hpp"
#include "paw/run.hpp"
#include "paw/runtime/generate.hpp"
#include "paw/runtime/prefix_state.hpp"
#include "paw/util/error.hpp"
#include "paw/util/sha256.hpp"
#include "api/run_internal.hpp"

namespace paw {


namespace {

namespace fs = std::filesystem;
using run_detail::SessionPool;

void log_line(const ProgramOptions& o, std::string_view level, const std::string& msg) {
  if (o.log) {
    o.log(level, msg);
    return;
  }
  std::fprintf(stderr, "paw: %.*s: %s\n", static_cast<int>(level.size()), level.data(), msg.c_str());
}

EncodeOptions reference_encode() {
  EncodeOptions eo;
  eo.parse_special = true;   // the template's <|im_start|> etc. are special tokens
  eo.add_bos = false;
  return eo;
}

}  // namespace

// Adapter from the bundle's file when it has one (mapped), else from its bytes in memory.
std::shared_ptr<const LoraAdapter> load_program_adapter(const ProgramBundle& b) {
  if (!b.adapter_path.empty()) return LoraAdapter::load_gguf(b.adapter_path);
  return LoraAdapter::from_gguf_bytes(b.adapter_gguf, b.source + ": " + kAdapterMember);
}

namespace {

// The file the interpreter's model was converted from, when it records one.
std::optional<ModelSource> converted_copy_source(const Interpreter& in) {
  const GGUFFile* f = run_detail::InterpreterAccess::of(in).model->gguf();
  if (!f) return std::nullopt;
  try {
    return converted_from(*f);
  } catch (const Error&) {
    return std::nullopt;  // a malformed record: not a known copy (the name check below decides)
  }
}

// Why the interpreter's model is not the base the program was compiled for, if it is not.
// Compared by architecture, file name and size (hashing 600 MB per open would be too slow;
// a renamed copy of the right model passes as "other" only by name, which is harmless).
// A copy of the base in another weight type (`paw convert`) names the base it was made from
// and counts as the base: the program's weights were trained for those values, rounded.
std::optional<std::string> other_base_reason(const ProgramBundle& b, const Interpreter& in) {
  const auto& m = b.manifest;
  if (!m) return "its interpreter '" + b.meta.interpreter + "' has no known runtime manifest";
  if (!m->arch.empty() && m->arch != in.arch()) return "it was compiled for a " + m->arch + " model";
  if (const std::optional<ModelSource> src = converted_copy_source(in);
      src && !m->base_model_file.empty() && src->name == m->base_model_file &&
      (!m->base_model_size || *m->base_model_size == src->size) &&
      (m->base_model_sha256.empty() || m->base_model_sha256 == src->sha256))
    return std::nullopt;
  const std::string name = fs::path(in.path()).filename().string();
  if (!m->base_model_file.empty() && name != m->base_model_file) return "it was compiled for " + m->base_model_file;
  struct stat st;
  if (m->base_model_size && ::stat(in.path().c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) != *m->base_model_size)
    return "it was compiled for " + m->base_model_file + " of " + std::to_string(*m->base_model_size) + " bytes";
  return std::nullopt;
}

bool same_adapters(const std::vector<ActiveAdapter>& have, const std::vector<ActiveAdapter>& want) {
  if (have.size() != want.size()) return false;
  for (size_t i = 0; i < have.size(); ++i)
    if (have[i].adapter != want[i].adapter || have[i].scale != want[i].scale) return false;
  return true;
}

// Makes `s` use exactly `want`; the KV cache of a session always matches its adapters
// (changing them resets it), which is what lets a later call reuse the cached prefix.
void bind_adapters(Session& s, const std::vector<ActiveAdapter>& want) {
  if (same_adapters(s.adapters(), want)) return;
  s.set_adapters(want);
  s.reset();
}

std::vector<ActiveAdapter> wanted(const Program::Impl& p) {
  if (!p.adapter) return {};
  return {ActiveAdapter{p.adapter, 1.0f}};   // the reference attaches at scale 1.0
}

// What failed, for a one-line note (paw::Error's own text without where/hint).
std::string reason(const std::exception& e) {
  if (const auto* pe = dynamic_cast<const Error*>(&e)) return pe->what_failed();
  return e.what();
}

// Fills prefix_state (+ source, state_hash) from prefix_kv_cache.bin or by evaluating. Any
// problem with the file (or the model hash it needs) only costs an evaluation and one note.
void prepare_prefix(Program::Impl& p, const ProgramOptions& o, Session& s) {
  auto& ii = run_detail::InterpreterAccess::of(p.interp);
  bool disk = o.prefix_cache && !p.cache_path.empty();
  std::vector<std::string> problems;
  if (disk) {
    try {
      p.state_hash = p.interp.model_sha256();
    } catch (const std::exception& e) {
      problems.push_back("off: cannot hash the model (" + reason(e) + ")");
      disk = false;
    }
  }
  if (!disk) p.state_hash = sha256_hex("paw-in-memory-prefix\n" + p.interp.path());

  if (disk) {
    struct stat st;
    if (::lstat(p.cache_path.c_str(), &st) == 0) {
      try {
        if (!S_ISREG(st.st_mode)) throw Error("not a regular file", p.cache_path);
        PrefixState loaded = PrefixState::load(p.cache_path);
        loaded.check(s, p.state_hash, p.prefix_ids);
        p.prefix_state = std::make_shared<const PrefixState>(std::move(loaded));
        p.source = PrefixSource::Disk;
      } catch (const std::exception& e) {
        problems.push_back("not used (" + reason(e) + ")");
      }
    }
  }
  if (!p.prefix_state) {
    s.reset();
    s.prefill(p.prefix_ids);
    ii.evaluated += p.prefix_ids.size();
    p.prefix_state = std::make_shared<const PrefixState>(PrefixState::capture(s, p.state_hash));
    p.source = PrefixSource::Computed;
    if (disk) {
      try {
        const std::string dir = fs::path(p.cache_path).parent_path().string();
        const std::string root = fs::path(dir).parent_path().parent_path().string();
        run_detail::store_prefix_cache(root, p.id, dir, p.prefix_state->to_bytes());
        if (!problems.empty()) problems.push_back("rewritten");
      } catch (const std::exception& e) {
        const auto* pe = dynamic_cast<const Error*>(&e);
        problems.push_back("could not be written (" + reason(e) + (pe && !pe->where().empty() ? ": " + pe->where() : "") + ")");
      }
    }
  }
  if (!problems.empty()) {
    std::string msg = "prefix KV cache " + p.cache_path + ": ";
    for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
    log_line(o, "note", msg);
  }
}

std::string replace_placeholder(const std::string& tmpl, std::string_view input) {
  std::string out = tmpl;
  size_t at = out.find(kInputPlaceholder);
  if (at != std::string::npos) out.replace(at, std::string_view(kInputPlaceholder).size(), input);
  return out;
}

}  // namespace

ProgramBundle load_program(const std::string& ref, const ProgramOptions& opts) {
  struct stat st;
  ProgramCache cache(opts.cache_dir);
  if (::stat(ref.c_str(), &st) != 0) return open_program(ref, cache);   // a cached id
  Bundle b = read_bundle(ref);
  std::string cache_dir;
  if (opts.prefix_cache && opts.import_into_cache) {
    try {
      cache_dir = cache.import(b).dir;
    } catch (const std::exception& e) {
      log_line(opts, "note",
               "program " + ref + " was not imported into the cache (" + reason(e) + "); running without the prefix KV cache");
    }
  }
  ProgramBundle p = ProgramBundle::from_bundle(std::move(b), S_ISDIR(st.st_mode) ? ref : std::string());
  p.cache_dir = cache_dir;
  if (p.adapter_path.empty() && !cache_dir.empty()) p.adapter_path = cache_dir + "/" + kAdapterMember;
  return p;
}

Program Program::open(const std::string& ref, const Interpreter& interp, const ProgramOptions& opts) {
  return open(load_program(ref, opts), interp, opts);
}

Program Program::open(const std::string& ref, const ProgramOptions& opts) {
  ProgramBundle b = load_program(ref, opts);
  BaseModelOptions bo;
  bo.model_override = opts.model_override;
  bo.cache_dir = opts.cache_dir;
  bo.offline = opts.offline;
  ResolvedBaseModel r = resolve_base_model(b.meta, bo);
  InterpreterOptions io = opts.interpreter;
  if (io.cache_dir.empty()) io.cache_dir = opts.cache_dir;
  return open(std::move(b), Interpreter::open(r.path, io), opts);
}

Program Program::open(ProgramBundle bundle, const Interpreter& interp, const ProgramOptions& opts) {
  auto p = std::make_shared<Impl>(interp);
  p->id = bundle.id;
  p->interpreter_name = bundle.meta.interpreter;
  p->tmpl_prefix = bundle.template_prefix;
  p->tmpl_suffix = bundle.template_suffix;
  const std::string label = "program " + bundle.id + " (" + bundle.source + ")";

  int64_t n_ctx = opts.n_ctx > 0 ? opts.n_ctx : (bundle.manifest ? bundle.manifest->n_ctx : 2048);
  p->n_ctx = std::min<int64_t>(n_ctx, interp.n_ctx());

  if (auto why = other_base_reason(bundle, interp)) {
    p->other_base = true;
    log_line(opts, "warning",
             "program " + bundle.id + " runs on " + interp.path() + " (" + interp.arch() +
                 "), not on the base it was compiled for: " + *why);
  }
  p->adapter = load_program_adapter(bundle);

  auto& ii = run_detail::InterpreterAccess::of(interp);
  SessionPool::Lease lease = ii.pool->acquire(nullptr);
  try {
    try {
      bind_adapters(*lease, wanted(*p));
    } catch (const Error& e) {
      // Architecture or shapes differ (validate_adapter_for_model rules, Session::attach).
      throw Error(label + " (compiled for " + bundle.meta.interpreter + ") cannot run on " + interp.path() + ": " +
                      e.what_failed(),
                  e.where(), e.hint());
    }
    p->prefix_ids = ii.tokenizer.encode(p->tmpl_prefix, reference_encode());
    const int64_t n_prefix = static_cast<int64_t>(p->prefix_ids.size());
    if (n_prefix >= p->n_ctx)
      throw Error("the template prefix has " + std::to_string(n_prefix) + " tokens, which leaves no room in the context of " +
                      std::to_string(p->n_ctx) + " tokens",
                  label, "run with a larger context");
    if (!bundle.cache_dir.empty() && opts.prefix_cache)
      p->cache_path = bundle.cache_dir + "/" + run_detail::kPrefixCacheFile;
    if (n_prefix > 0) prepare_prefix(*p, opts, *lease);
  } catch (...) {
    lease.mark_dirty();
    throw;
  }
  p->bundle = std::move(bundle);
  return Program(std::move(p));
}

Program Program::base(const Interpreter& interp, const ProgramOptions& opts) {
  auto p = std::make_shared<Impl>(interp);
  p->base = true;
  p->base_template = base_prompt_template(interp.arch());
  auto m = builtin_runtime_manifest(interp.arch() == "qwen3" ? "Qwen/Qwen3-0.6B" : "gpt2");
  p->interpreter_name = m ? m->interpreter : interp.arch();
  p->n_ctx = std::min<int64_t>(opts.n_ctx > 0 ? opts.n_ctx : 2048, interp.n_ctx());
  return Program(std::move(p));
}

namespace run_detail {

CallPlan plan_call(const Program::Impl& p, std::string_view input, const RunOptions& ro) {
  auto& ii = run_detail::InterpreterAccess::of(p.interp);
  const Tokenizer& tok = ii.tokenizer;

  // Tokenize and check the context before anything is evaluated.
  CallPlan c;
  if (p.base) {
    c.ids = tok.encode(replace_placeholder(p.base_template, input), reference_encode());
    if (c.ids.empty())
      throw Error("the rendered base prompt has no tokens", "base " + p.interpreter_name, "give a non-empty input");
  } else {
    std::string text(input);
    text += p.tmpl_suffix;   // one string: tokens may merge across the boundary, as in the reference
    c.ids = tok.encode(text, reference_encode());
  }
  const int64_t n_prefix = static_cast<int64_t>(p.prefix_ids.size());
  const int64_t n_input = static_cast<int64_t>(c.ids.size());
  c.result.prefix_tokens = n_prefix;
  c.result.input_tokens = n_input;
  const int64_t used = n_prefix + n_input;
  if (used >= p.n_ctx)
    throw Error("context overflow: " + std::to_string(used) + " tokens (prefix " + std::to_string(n_prefix) + " + input " +
                    std::to_string(n_input) + ") leave no room in the context of " + std::to_string(p.n_ctx) + " tokens",
                p.base ? "base " + p.interpreter_name : "program " + p.id, "shorten the input");
  if (used == 0)
    throw Error("nothing to evaluate: the template prefix and the input are both empty", "program " + p.id,
                "give a non-empty input");

  if (ii.eos >= 0) c.gen.stop_ids = {ii.eos};
  const int64_t room = p.n_ctx - used;
  c.gen.max_tokens = ro.max_tokens >= 0 ? std::min(ro.max_tokens, room) : room;
  if (ro.temperature > 0) {
    // llama-cpp-python's sampling defaults, which the reference uses with a temperature.
    c.gen.sampling.temperature = ro.temperature;
    c.gen.sampling.top_k = 40;
    c.gen.sampling.top_p = 0.95f;
    c.gen.sampling.min_p = 0.05f;
    c.gen.sampling.seed = ro.seed;
  }
  c.gen.on_token = ro.on_token;
  return c;
}

std::span<const int32_t> start_call(const Program::Impl& p, Session& s, const CallPlan& c, int32_t& last_prefix) {
  bind_adapters(s, wanted(p));
  std::span<const int32_t> prompt = c.ids;
  const int64_t n_prefix = static_cast<int64_t>(p.prefix_ids.size());
  if (n_prefix == 0) {
    s.reset();
    return prompt;
  }
  const auto& held = s.tokens();
  if (s.n_past() >= n_prefix && std::equal(p.prefix_ids.begin(), p.prefix_ids.end(), held.begin()))
    s.truncate(n_prefix);   // this session already holds the prefix
  else
    p.prefix_state->restore(s, p.state_hash, p.prefix_ids);
  if (c.ids.empty()) {
    // No input tokens: re-evaluate the last prefix token to get the logits to start from.
    s.truncate(n_prefix - 1);
    last_prefix = p.prefix_ids.back();
    prompt = std::span<const int32_t>(&last_prefix, 1);
  }
  return prompt;
}

void finish_call(const Program::Impl& p, GenerateResult&& g, RunResult& r) {
  r.stopped_at_eos = g.reason == StopReason::StopToken;
  r.cancelled = g.reason == StopReason::Callback;
  r.ids = std::move(g.ids);
  DecodeOptions dopt;
  dopt.skip_special = true;
  r.output = trim_output(p.interp.tokenizer().decode(r.ids, dopt));
}

}  // namespace run_detail

RunResult Program::run(std::string_view input, const RunOptions& ro) const {
  const Impl& p = *impl_;
  auto& ii = run_detail::InterpreterAccess::of(p.interp);
  run_detail::CallPlan c = run_detail::plan_call(p, input, ro);
  SessionPool::Lease lease = ii.pool->acquire(p.adapter.get());
  Session& s = *lease;
  GenerateResult g;
  try {
    int32_t last_prefix = 0;
    const std::span<const int32_t> prompt = run_detail::start_call(p, s, c, last_prefix);
    const int64_t before = s.n_past();
    g = generate(s, prompt, c.gen);
    ii.evaluated += static_cast<uint64_t>(s.n_past() - before);
  } catch (...) {
    lease.mark_dirty();
    throw;
  }
  run_detail::finish_call(p, std::move(g), c.result);
  return std::move(c.result);
}

bool Program::is_base() const { return impl_->base; }
const std::string& Program::id() const { return impl_->id; }
const std::string& Program::interpreter_name() const { return impl_->interpreter_name; }
const ProgramBundle* Program::bundle() const { return impl_->bundle ? &*impl_->bundle : nullptr; }
const Interpreter& Program::interpreter() const { return impl_->interp; }
int64_t Program::n_ctx() const { return impl_->n_ctx; }
int64_t Program::prefix_tokens() const { return static_cast<int64_t>(impl_->prefix_ids.size()); }
PrefixSource Program::prefix_source() const { return impl_->source; }
const std::string& Program::prefix_cache_path() const { return impl_->cache_path; }
bool Program::runs_on_other_base() const { return impl_->other_base; }

}  // namespace paw
