// `paw info PROGRAM`: meta.json, a template preview, the adapter summary and which base
// model the program would run on (with the adapter checked against it).
#include "cli/info_program.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "paw/adapter/lora.hpp"
#include "paw/adapter/validate.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/model/model.hpp"
#include "paw/program/base_model.hpp"
#include "paw/program/cache.hpp"
#include "paw/program/program_bundle.hpp"
#include "paw/run.hpp"
#include "paw/util/error.hpp"

namespace paw::cli {
namespace {

using nlohmann::json;

// Visible newlines and tabs, cut after `max` bytes (on a character boundary).
std::string preview(const std::string& s, size_t max) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    char c = s[i];
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  if (s.size() > max) {
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
    if (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0xC0) out.pop_back();
    out += "...";
  }
  return out;
}

struct AdapterSummary {
  std::string arch;
  double alpha = 0;
  std::set<int64_t> ranks;
  std::set<std::string> types;
  std::set<std::string> targets;   // module names without "blk.N." and ".weight"
  std::set<int64_t> layers;
  size_t pairs = 0;
  uint64_t bytes = 0;
};

// From the GGUF directory only (no tensor data needs to be read).
AdapterSummary summarize_adapter(const ProgramBundle& b) {
  AdapterSummary s;
  GGUFFile f = GGUFFile::parse(*b.adapter_gguf, b.source + ": adapter.gguf");
  s.bytes = b.adapter_gguf->size();
  if (const GGUFValue* v = f.find("general.architecture")) s.arch = v->as_string();
  if (const GGUFValue* v = f.find("adapter.lora.alpha")) s.alpha = v->as_f64();
  for (const GGUFTensorInfo& t : f.tensors()) {
    s.types.insert(std::string(dtype_name(t.type)));
    const std::string suffix = ".lora_b";
    if (t.name.size() <= suffix.size() || t.name.compare(t.name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    ++s.pairs;
    std::string base = t.name.substr(0, t.name.size() - suffix.size());
    if (base.size() > 7 && base.compare(base.size() - 7, 7, ".weight") == 0) base.resize(base.size() - 7);
    // lora_b ne = [r, n_out]; the token embedding's flipped pair has ne = [r, n_embd] too.
    if (!t.ne.empty()) s.ranks.insert(t.ne[0]);
    if (base.rfind("blk.", 0) == 0) {
      size_t dot = base.find('.', 4);
      if (dot != std::string::npos) {
        try {
          s.layers.insert(std::stoll(base.substr(4, dot - 4)));
        } catch (const std::exception&) {
        }
        base = base.substr(dot + 1);
      }
    }
    s.targets.insert(base);
  }
  return s;
}

std::string join(const std::set<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
  return out;
}

std::string join(const std::set<int64_t>& v) {
  std::string out;
  for (auto x : v) out += (out.empty() ? "" : ", ") + std::to_string(x);
  return out;
}

struct BaseCheck {
  std::string path;
  bool found = false;
  bool overridden = false;
  bool verified = false;
  std::string problem;   // resolution failure
  std::string check;     // "ok" or the adapter/model mismatch
};

BaseCheck check_base(const ProgramBundle& b) {
  BaseCheck c;
  try {
    ResolvedBaseModel r = resolve_base_model(b.meta);
    c.path = r.path;
    c.found = true;
    c.overridden = r.overridden;
    c.verified = r.sha256_verified;
  } catch (const Error& e) {
    c.problem = e.what();
    return c;
  }
  try {
    ModelLoadOptions lo;
    lo.interleave = false;  // shapes only: nothing is multiplied
    auto model = Model::load(c.path, lo);
    auto adapter = load_program_adapter(b);
    validate_adapter_for_model(*adapter, std::string(arch_name(model->arch())),
                               [&](const std::string& name) -> std::optional<std::array<int64_t, 2>> {
                                 if (name == "token_embd.weight") {
                                   const auto& v = model->weights().token_embd.view;
                                   return std::array<int64_t, 2>{v.cols, v.rows};
                                 }
                                 int idx = model->find_linear(name);
                                 if (idx < 0) return std::nullopt;
                                 const LinearInfo& l = model->linears()[static_cast<size_t>(idx)];
                                 return std::array<int64_t, 2>{l.n_in(), l.n_out()};
                               });
    c.check = "ok";
  } catch (const Error& e) {
    c.check = e.what();
  }
  return c;
}

}  // namespace

bool is_program_ref(const std::string& ref) {
  struct stat st;
  if (::stat(ref.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return ::stat((ref + "/meta.json").c_str(), &st) == 0;
    std::ifstream in(ref, std::ios::binary);
    char head[4] = {};
    in.read(head, 4);
    return in.gcount() == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
  }
  return ref.size() >= 4 && ref.size() <= 64 &&
         std::all_of(ref.begin(), ref.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

void info_program(const std::string& ref, bool as_json) {
  ProgramCache cache;
  ProgramBundle b = open_program(ref, cache);   // reading only: nothing is imported
  const AdapterSummary a = summarize_adapter(b);
  const BaseCheck base = check_base(b);
  const ProgramMeta& m = b.meta;
  auto field = [&](const char* key) -> std::optional<std::string> {
    auto it = m.json.find(key);
    if (it == m.json.end() || it->is_null()) return std::nullopt;
    return it->is_string() ? it->get<std::string>() : it->dump();
  };

  if (as_json) {
    json j;
    j["program"] = b.id;
    j["source"] = b.source;
    j["cached"] = !b.cache_dir.empty();
    j["meta"] = m.json;
    j["template"] = {{"bytes", b.prompt_template.size()},
                     {"prefix", b.template_prefix},
                     {"suffix", b.template_suffix}};
    j["adapter"] = {{"arch", a.arch},   {"alpha", a.alpha},  {"ranks", a.ranks}, {"types", a.types},
                    {"targets", a.targets}, {"layers", a.layers.size()}, {"pairs", a.pairs}, {"bytes", a.bytes}};
    json bj = {{"found", base.found}};
    if (b.manifest) bj["runtime"] = b.manifest->to_json();
    if (base.found) {
      bj["path"] = base.path;
      bj["overridden"] = base.overridden;
      bj["sha256_verified"] = base.verified;
      bj["adapter_check"] = base.check;
    } else {
      bj["problem"] = base.problem;
    }
    j["base_model"] = bj;
    std::puts(j.dump(2, ' ', false, json::error_handler_t::replace).c_str());
    return;
  }

  fmt::print("program {} (bundle v{})\n", b.id, m.version);
  fmt::print("  source:       {}{}\n", b.source, b.cache_dir.empty() ? "" : " (cached)");
  fmt::print("  interpreter:  {}\n", m.interpreter);
  if (b.manifest)
    fmt::print("  runtime:      {} — {} (n_ctx {})\n", b.manifest->runtime_id,
               b.manifest->base_model_file.empty() ? "no base model file" : b.manifest->base_model_file, b.manifest->n_ctx);
  for (const char* key : {"spec", "compiler_snapshot", "lora_rank", "lora_alpha", "prefix_steps", "created_at"})
    if (auto v = field(key)) fmt::print("  {:<13} {}\n", std::string(key) + ":", preview(*v, 120));

  fmt::print("template: {} bytes ({} before {{INPUT_PLACEHOLDER}}, {} after)\n", b.prompt_template.size(),
             b.template_prefix.size(), b.template_suffix.size());
  fmt::print("  {}\n", preview(b.prompt_template, 240));

  fmt::print("adapter: {} bytes, {} LoRA pairs, arch {}, alpha {}, rank {}, type {}\n", a.bytes, a.pairs, a.arch, a.alpha,
             join(a.ranks), join(a.types));
  fmt::print("  targets: {} in {} layer(s)\n", join(a.targets), a.layers.size());

  if (!base.found) {
    fmt::print("base model: not available — {}\n", base.problem);
    return;
  }
  fmt::print("base model: {}{}{}\n", base.path, base.overridden ? " (override: --model/PAW_MODEL)" : "",
             base.verified ? " (sha256 verified)" : "");
  fmt::print("  adapter check: {}\n", base.check);
}

}  // namespace paw::cli
