// The reference service's REST API under /api/v1 (its SDK's client: compile, resolve a slug,
// download a bundle, fetch a runtime manifest, list compilers/programs/versions, infer).
#include <algorithm>
#include <filesystem>

#include "paw/program/base_model.hpp"
#include "paw/program/bundle.hpp"
#include "paw/program/meta.hpp"
#include "paw/program/slugs.hpp"
#include "paw/util/error.hpp"
#include "server/server_internal.hpp"

namespace paw::server {
namespace {

// A program as the reference lists it; its slug is the last slug version naming it.
json describe(const CacheEntry& e, const std::map<std::string, std::vector<SlugOf>>& slugs) {
  json j = {{"program_id", e.id},
            {"slug", nullptr},
            {"version", nullptr},
            {"name", nullptr},
            {"spec", e.spec},
            {"interpreter", e.interpreter},
            {"compiler_snapshot", e.compiler.empty() ? json(nullptr) : json(e.compiler)},
            {"created_at", e.created_at.empty() ? json(nullptr) : json(e.created_at)},
            {"size_bytes", e.size_bytes},
            {"status", "ready"}};
  if (auto it = slugs.find(e.id); it != slugs.end()) {
    const SlugOf& s = it->second.back();
    j["slug"] = s.slug;
    j["version"] = s.version;
    if (!s.name.empty()) j["name"] = s.name;
  }
  return j;
}

CacheEntry entry_for(State& st, const std::string& id) {
  for (CacheEntry& e : st.cache().list())
    if (e.id == id) return e;
  fail(404, "not_found", "Program not found: " + id);
}

compiler::Compiler& compiler_for(State& st, const std::optional<std::string>& asked) {
  if (!st.compiler)
    fail(503, "no_compiler", "this server has no compiler", {{"hint", "start paw serve with --compiler FILE.gguf"}});
  if (asked && !asked->empty()) {
    const auto& ci = st.compiler->info();
    const std::string file = std::filesystem::path(ci.path).filename().string();
    if (*asked != ci.name && *asked != ci.fingerprint && *asked != file && *asked != "default")
      fail(404, "unknown_compiler", "no compiler '" + *asked + "' on this server (it has '" + ci.name + "')",
           {{"available", json::array({ci.name})}});
  }
  return *st.compiler;
}

// The compile options of a request: the body's optional "expert" (an experts compiler's expert
// to use whatever the router says; 422 when the compiler has none such).
compiler::CompileOptions compile_options(const State& st, const json& body) {
  compiler::CompileOptions co;
  co.expert = opt_string(body, "expert").value_or("");
  // Checked before compiling, so that the answer can list the experts under its own code.
  if (!co.expert.empty() && !st.compiler->find_expert(co.expert))
    fail(422, "unknown_expert", "the compiler has no expert '" + co.expert.substr(0, 80) + "'",
         {{"field", "expert"}, {"available", st.compiler->info().experts}});
  return co;
}

// 413 for a spec over the compiler's limit, 422 for any other spec problem.
[[noreturn]] void spec_error(const Error& e) {
  const std::string m = e.what();
  if (m.find("too long") != std::string::npos) fail(413, "spec_too_long", m);
  fail(422, "invalid_spec", m);
}

void compile_route(State& st, const httplib::Request& req, httplib::Response& res) {
  const json body = body_object(req);
  const std::string spec = req_string(body, "spec");
  const auto asked = opt_string(body, "compiler");
  const auto name = opt_string(body, "name");
  std::string slug = opt_string(body, "slug").value_or("");
  if (slug.empty() && name) slug = slugify(*name);
  if (!slug.empty() && !slug_problem(slug).empty())
    fail(422, "invalid_slug", "illegal slug '" + slug.substr(0, 80) + "': it " + slug_problem(slug),
         {{"field", "slug"}, {"rule", "1-64 of a-z 0-9 - _, optionally owner/slug"}});
  compiler::Compiler& c = compiler_for(st, asked);
  const compiler::CompileOptions co = compile_options(st, body);
  compiler::CompiledProgram p;
  {
    std::lock_guard<std::mutex> g(st.compile_mu);
    try {
      p = c.compile(spec, co);
    } catch (const Error& e) {
      spec_error(e);
    }
  }
  const ImportResult ir = st.cache().import(p.bundle);
  // Downloaded programs then run with `paw run` on this cache without --model (a no-op when
  // the cache already holds the file).
  if (std::filesystem::path(st.model_path).filename() == c.info().interp_name)
    install_base_model(st.model_path, st.opts.cache_dir);
  std::optional<SlugAssignment> a;
  if (!slug.empty()) a = SlugRegistry(st.opts.cache_dir).assign(slug, p.program_id, name.value_or(""));
  const auto& t = p.timings;
  const auto& meta = p.bundle.meta;
  json out{{"program_id", p.program_id},
                 {"slug", a ? json(a->slug) : json(nullptr)},
                 {"version", a ? json(a->version) : json(nullptr)},
                 {"version_action", a ? json(a->action) : json(nullptr)},
                 {"name", name ? json(*name) : json(nullptr)},
                 {"status", "ready"},
                 {"cached", ir.already_present},
                 {"compiler_snapshot", c.info().name},
                 {"compiler_kind", meta.json.value("compiler_kind", "mapper")},
                 {"pseudo_program_strategy", meta.json.value("pseudo_program_strategy", "spec")},
                 {"runtime_id", meta.runtime_id.value_or("")},
                 {"runtime_manifest_version", meta.effective_manifest() ? json(meta.effective_manifest()->manifest_version) : json(nullptr)},
                 {"timings",
                  {{"encoder_ms", t.encoder_ms}, {"mapper_ms", t.mapper_ms}, {"adapter_ms", t.adapter_ms},
                   {"bundle_ms", t.bundle_ms}, {"expert_check_ms", t.expert_check_ms}, {"total_ms", t.total_ms}}}};
  // An experts compiler: where the spec was routed, heaviest first (an extra field).
  if (!p.experts.empty()) {
    json ex = json::array();
    for (const auto& route : p.experts) ex.push_back({{"name", route.name}, {"weight", route.weight}});
    out["experts"] = ex;
    out["expert"] = p.expert;
    out["expert_chosen_by"] = p.expert_chosen_by;
  }
  send_json(res, 200, out);
}

void precheck_route(State& st, const httplib::Request& req, httplib::Response& res) {
  const json body = body_object(req);
  const std::string spec = req_string(body, "spec");
  compiler::Compiler& c = compiler_for(st, opt_string(body, "compiler"));
  const compiler::CompileOptions co = compile_options(st, body);
  try {
    std::lock_guard<std::mutex> g(st.compile_mu);
    const compiler::CompiledProgram p = c.compile(spec, co);
    bool cached = false;
    try {
      cached = st.cache().resolve_id(p.program_id) == p.program_id;
    } catch (const Error&) {
    }
    send_json(res, 200,
              json{{"ok", true}, {"program_id", p.program_id}, {"cached", cached}, {"encoder_tokens", p.encoder_tokens},
                   {"limit_tokens", c.info().encoder_n_ctx}, {"spec_bytes", spec.size()}});
  } catch (const Error& e) {
    const std::string m = e.what();
    send_json(res, 200,
              json{{"ok", false},
                   {"error", m.find("too long") != std::string::npos ? "spec_too_long" : "invalid_spec"},
                   {"message", m},
                   {"limit_tokens", c.info().encoder_n_ctx},
                   {"spec_bytes", spec.size()}});
  }
}

void infer_route(State& st, const httplib::Request& req, httplib::Response& res) {
  const json body = body_object(req);
  InferRequest r;
  r.ref = req_string(body, "program_id");
  r.input = req_string(body, "input");
  r.max_tokens = opt_int(body, "max_tokens", 0, 1 << 20);
  r.temperature = opt_number(body, "temperature", 0.0, 10.0);
  r.seed = static_cast<uint64_t>(opt_int(body, "seed", 0, INT64_MAX).value_or(0));
  const InferOutcome o = run_infer(st, r);
  send_json(res, 200,
            json{{"output", o.result.output},
                 {"program_id", o.program_id},
                 {"tokens_generated", o.result.ids.size()},
                 {"input_tokens", o.result.input_tokens},
                 {"finish_reason", o.result.stopped_at_eos ? "stop" : "length"},
                 {"latency_ms", o.latency_ms}});
}

// GET /api/v1/programs?q=&page=&per_page=
void list_route(State& st, const httplib::Request& req, httplib::Response& res) {
  auto int_param = [&](const char* k, int64_t def, int64_t lo, int64_t hi) {
    if (!req.has_param(k)) return def;
    const std::string v = req.get_param_value(k);
    int64_t n = 0;
    if (v.empty() || v.size() > 9 || !std::all_of(v.begin(), v.end(), ::isdigit))
      fail(422, "invalid_param", std::string("query parameter '") + k + "' must be a number");
    n = std::stoll(v);
    if (n < lo || n > hi)
      fail(422, "invalid_param", std::string("query parameter '") + k + "' is out of range [" + std::to_string(lo) + ", " +
                                     std::to_string(hi) + "]");
    return n;
  };
  const int64_t page = int_param("page", 1, 1, 1000000), per_page = int_param("per_page", 20, 1, 100);
  std::string q = req.has_param("q") ? req.get_param_value("q") : "";
  std::transform(q.begin(), q.end(), q.begin(), ::tolower);
  const auto slugs = SlugRegistry(st.opts.cache_dir).by_program();
  json items = json::array();
  size_t total = 0;
  std::vector<CacheEntry> entries = st.cache().list();
  // Newest first (created_at, then id), as the reference lists "recent".
  std::sort(entries.begin(), entries.end(), [](const CacheEntry& a, const CacheEntry& b) {
    return a.created_at != b.created_at ? a.created_at > b.created_at : a.id < b.id;
  });
  for (const CacheEntry& e : entries) {
    if (!q.empty()) {
      std::string hay = e.id + " " + e.spec;
      if (auto it = slugs.find(e.id); it != slugs.end()) hay += " " + it->second.back().slug + " " + it->second.back().name;
      std::transform(hay.begin(), hay.end(), hay.begin(), ::tolower);
      if (hay.find(q) == std::string::npos) continue;
    }
    ++total;
    if (total > static_cast<size_t>((page - 1) * per_page) && items.size() < static_cast<size_t>(per_page))
      items.push_back(describe(e, slugs));
  }
  send_json(res, 200, json{{"programs", items}, {"page", page}, {"per_page", per_page}, {"total", total}});
}

void program_route(State& st, const httplib::Request& req, httplib::Response& res) {
  const std::string id = st.resolve(req.matches[1]);
  json j = describe(entry_for(st, id), SlugRegistry(st.opts.cache_dir).by_program());
  const Bundle b = st.cache().open(id);
  j["meta"] = json::parse(b.meta_json, nullptr, false);
  j["prompt_template"] = b.prompt_template;
  send_json(res, 200, j);
}

void download_route(State& st, const httplib::Request& req, httplib::Response& res) {
  const std::string id = st.resolve(req.matches[1]);
  const Bundle b = st.cache().open(id);
  const std::vector<uint8_t> bytes = pack_bundle_bytes(b);
  res.status = 200;
  res.set_content(std::string(bytes.begin(), bytes.end()), "application/zip");
  res.set_header("Content-Disposition", "attachment; filename=\"" + id + ".paw\"");
}

void resolve_route(State& st, const httplib::Request& req, httplib::Response& res) {
  const std::string ref = req.matches[1];
  const std::string id = st.resolve(ref);
  json j = {{"program_id", id}, {"slug", nullptr}, {"version", nullptr}};
  if (auto r = parse_slug_ref(ref)) {
    j["slug"] = r->slug;
    if (auto rec = SlugRegistry(st.opts.cache_dir).find(r->slug)) {
      for (const SlugVersion& v : rec->versions)
        if (v.program_id == id && (!r->version || v.version == *r->version)) j["version"] = v.version;
    }
  }
  send_json(res, 200, j);
}

void versions_route(State& st, const httplib::Request& req, httplib::Response& res) {
  const std::string slug = req.matches[1];
  if (!slug_problem(slug).empty()) fail(400, "invalid_slug", "illegal slug: it " + slug_problem(slug));
  const auto rec = SlugRegistry(st.opts.cache_dir).find(slug);
  if (!rec) fail(404, "not_found", "Slug not found: " + slug);
  json vs = json::array();
  for (const SlugVersion& v : rec->versions)
    vs.push_back({{"version", v.version}, {"program_id", v.program_id}, {"name", v.name}, {"created_at", v.created_at}});
  send_json(res, 200, json{{"slug", rec->slug}, {"latest_version", rec->latest().version}, {"versions", vs}});
}

void compilers_route(State& st, const httplib::Request&, httplib::Response& res) {
  json list = json::array();
  if (st.compiler) {
    const auto& ci = st.compiler->info();
    list.push_back({{"name", ci.name},
                    {"snapshot", ci.name},
                    {"kind", "mapper"},
                    {"fingerprint", ci.fingerprint},
                    {"interpreter", ci.interp_name},
                    {"spec_conditioned", ci.spec_conditioned},
                    {"default", true}});
  }
  send_json(res, 200, json{{"compilers", list}});
}

void runtime_route(State& st, const httplib::Request& req, httplib::Response& res) {
  const std::string rid = req.matches[1];
  if (rid.empty() || rid.size() > 128 || rid.find_first_of("/\\") != std::string::npos || rid.find("..") != std::string::npos)
    fail(400, "invalid_runtime_id", "illegal runtime id");
  if (auto m = builtin_runtime_manifest(rid); m && m->runtime_id == rid) return send_json(res, 200, json(m->to_json()));
  // A runtime a cached program carries.
  ProgramCache cache = st.cache();
  for (const CacheEntry& e : cache.list()) {
    if (!e.problem.empty()) continue;
    try {
      const Bundle b = cache.open(e.id);
      const std::optional<RuntimeManifest> m = b.meta.effective_manifest();
      if (m && m->runtime_id == rid) return send_json(res, 200, json(m->to_json()));
    } catch (const Error&) {
    }
  }
  fail(404, "not_found", "Runtime not found: " + rid);
}

}  // namespace

void add_reference_routes(httplib::Server& http, State& st, const Wrap& wrap) {
  auto bind = [&st](void (*f)(State&, const httplib::Request&, httplib::Response&)) {
    return [&st, f](const httplib::Request& q, httplib::Response& r) { f(st, q, r); };
  };
  http.Post("/api/v1/infer", wrap(bind(infer_route)));
  http.Post("/api/v1/compile", wrap(bind(compile_route)));
  http.Post("/api/v1/compile/precheck", wrap(bind(precheck_route)));
  http.Get("/api/v1/programs", wrap(bind(list_route)));
  http.Get(R"(/api/v1/programs/resolve/(.+))", wrap(bind(resolve_route)));
  http.Get(R"(/api/v1/programs/(.+)/versions)", wrap(bind(versions_route)));
  http.Get(R"(/api/v1/programs/(.+)/download)", wrap(bind(download_route)));
  http.Get(R"(/api/v1/programs/(.+))", wrap(bind(program_route)));
  http.Get("/api/v1/models/compilers", wrap(bind(compilers_route)));
  http.Get(R"(/api/v1/models/runtimes/(.+))", wrap(bind(runtime_route)));
}

}  // namespace paw::server
