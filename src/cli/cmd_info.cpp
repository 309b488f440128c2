// `paw info FILE [--json]` — describe a GGUF model/adapter/compiler or a safetensors file.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.hpp"
#include "cli/file_kind.hpp"
#include "cli/info_program.hpp"
#include "paw/compiler/compiler.hpp"
#include "paw/compiler/format.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/formats/safetensors.hpp"
#include "paw/util/error.hpp"

namespace paw::cli {
namespace {

struct InfoOptions {
  std::string path;
  bool json = false;        // machine-readable output
  size_t max_array = 8;     // array elements shown before abbreviating
};

std::string shape_string(const std::vector<int64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

nlohmann::json value_json(const GGUFValue& v, size_t max_array) {
  switch (v.type()) {
    case GGUFType::STRING: return v.as_string();
    case GGUFType::BOOL: return v.as_bool();
    case GGUFType::FLOAT32:
    case GGUFType::FLOAT64: return v.as_f64();
    case GGUFType::INT8:
    case GGUFType::INT16:
    case GGUFType::INT32:
    case GGUFType::INT64: return v.as_i64();
    case GGUFType::ARRAY: {
      const auto& a = v.as_array();
      nlohmann::json arr = nlohmann::json::array();
      for (size_t i = 0; i < a.size() && i < max_array; ++i) arr.push_back(value_json(a[i], max_array));
      if (a.size() <= max_array) return arr;
      return nlohmann::json{{"type", std::string(gguf_type_name(v.elem_type()))}, {"count", a.size()}, {"head", arr}};
    }
    default: return v.as_u64();
  }
}

// What a compiler GGUF says about itself (opened and validated by the native compiler).
nlohmann::json compiler_summary(const std::string& path) {
  const compiler::Compiler c = compiler::Compiler::open(path);
  const compiler::CompilerInfo& ci = c.info();
  return {{"name", ci.name},
          {"fingerprint", ci.fingerprint},
          {"spec_conditioned", ci.spec_conditioned},
          {"encoder", {{"n_layer", ci.encoder_n_layer}, {"n_embd", ci.encoder_n_embd}, {"n_ctx", ci.encoder_n_ctx},
                       {"params", ci.encoder_params}, {"layers", ci.encoder_layers}}},
          {"prefix_tokens", ci.prefix_tokens},
          {"mapper_hidden", ci.mapper_hidden},
          {"n_bases", ci.n_bases},
          {"coef_activation", compiler::coef_activation_name(ci.coef_activation)},
          {"experts", ci.experts},
          {"lora", {{"rank", ci.rank}, {"alpha", ci.alpha}, {"modules", ci.modules}, {"adapter_type", ci.adapter_type}}},
          {"interpreter", {{"file", ci.interp_name}, {"size", ci.interp_size}, {"sha256", ci.interp_sha256},
                           {"arch", ci.interp_arch}, {"n_layer", ci.interp_n_layer}, {"n_embd", ci.interp_n_embd}}},
          {"template", ci.program_template}};
}

void info_gguf(const InfoOptions& o) {
  auto f = GGUFFile::open(o.path);
  const bool is_compiler = f.get_string_or("general.type", "") == compiler::kGeneralType;
  uint64_t tensor_bytes = 0;
  for (const auto& t : f.tensors()) tensor_bytes += t.n_bytes;
  if (o.json) {
    nlohmann::json j;
    j["file"] = o.path;
    j["format"] = "gguf";
    j["version"] = f.version();
    j["alignment"] = f.alignment();
    j["file_size"] = f.file_size();
    j["tensor_bytes"] = tensor_bytes;
    if (is_compiler) j["compiler"] = compiler_summary(o.path);
    nlohmann::json md = nlohmann::json::object();
    for (const auto& [k, v] : f.metadata()) md[k] = value_json(v, o.max_array);
    j["metadata"] = md;
    nlohmann::json ts = nlohmann::json::array();
    for (const auto& t : f.tensors())
      ts.push_back({{"name", t.name}, {"type", std::string(dtype_name(t.type))}, {"ne", t.ne},
                    {"offset", t.file_offset}, {"bytes", t.n_bytes}});
    j["tensors"] = ts;
    std::puts(j.dump(2).c_str());
    return;
  }
  fmt::print("{}: GGUF v{}, {} metadata keys, {} tensors, {} bytes of tensor data, alignment {}\n", o.path,
             f.version(), f.metadata().size(), f.tensors().size(), tensor_bytes, f.alignment());
  if (is_compiler) {
    const nlohmann::json c = compiler_summary(o.path);
    fmt::print("\ncompiler {} ({}): encoder {} layers x {} ({} params), {} prefix tokens, mapper hidden {}, {} bases per "
               "module ({} coefficients)\n  programs: rank {} alpha {} on {} ({} by default) for interpreter {} ({} bytes, sha256 {})\n",
               c["name"].get<std::string>(),
               c["spec_conditioned"].get<bool>() ? "spec-conditioned" : "control: ignores the spec",
               c["encoder"]["n_layer"].get<int64_t>(), c["encoder"]["n_embd"].get<int64_t>(),
               c["encoder"]["params"].get<int64_t>(), c["prefix_tokens"].get<int64_t>(),
               c["mapper_hidden"].get<int64_t>(), c["n_bases"].get<int64_t>(),
               c["coef_activation"].get<std::string>(), c["lora"]["rank"].get<int64_t>(),
               c["lora"]["alpha"].get<double>(), c["lora"]["modules"].dump(), c["lora"]["adapter_type"].get<std::string>(),
               c["interpreter"]["file"].get<std::string>(), c["interpreter"]["size"].get<uint64_t>(),
               c["interpreter"]["sha256"].get<std::string>());
    if (!c["experts"].empty())
      fmt::print("  experts ({}; a spec's program is the one it routes to): {}\n", c["experts"].size(),
                 fmt::join(c["experts"].get<std::vector<std::string>>(), ", "));
  }
  fmt::print("\nmetadata:\n");
  for (const auto& [k, v] : f.metadata()) fmt::print("  {:<40} {}\n", k, v.to_display(o.max_array));
  fmt::print("\ntensors:\n  {:<40} {:<6} {:<24} {:>12}\n", "name", "type", "shape (ne)", "bytes");
  for (const auto& t : f.tensors())
    fmt::print("  {:<40} {:<6} {:<24} {:>12}\n", t.name, dtype_name(t.type), shape_string(t.ne), t.n_bytes);
}

void info_safetensors(const InfoOptions& o) {
  auto f = SafetensorsFile::open(o.path);
  if (o.json) {
    nlohmann::json j;
    j["file"] = o.path;
    j["format"] = "safetensors";
    nlohmann::json md = nlohmann::json::object();
    for (const auto& [k, v] : f.metadata()) md[k] = v;
    j["metadata"] = md;
    nlohmann::json ts = nlohmann::json::array();
    for (const auto& t : f.tensors())
      ts.push_back({{"name", t.name}, {"dtype", std::string(st_dtype_name(t.dtype))}, {"shape", t.shape},
                    {"bytes", t.n_bytes()}});
    j["tensors"] = ts;
    std::puts(j.dump(2).c_str());
    return;
  }
  fmt::print("{}: safetensors, {} tensors\n", o.path, f.tensors().size());
  if (!f.metadata().empty()) {
    fmt::print("\nmetadata:\n");
    for (const auto& [k, v] : f.metadata()) fmt::print("  {:<40} {}\n", k, v);
  }
  fmt::print("\ntensors:\n  {:<48} {:<6} {:<24} {:>12}\n", "name", "dtype", "shape", "bytes");
  for (const auto& t : f.tensors())
    fmt::print("  {:<48} {:<6} {:<24} {:>12}\n", t.name, st_dtype_name(t.dtype), shape_string(t.shape), t.n_bytes());
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto opt = std::make_shared<InfoOptions>();
  auto* cmd = app.add_subcommand("info", "Describe a GGUF model/adapter or a safetensors file");
  cmd->add_option("file", opt->path, "GGUF or .safetensors file")->required();
  cmd->add_flag("--json", opt->json, "Machine-readable JSON output");
  cmd->add_option("--max-array", opt->max_array, "Array elements shown before abbreviating")->capture_default_str();
  cmd->callback([opt] {
    if (is_program_ref(opt->path)) return info_program(opt->path, opt->json);   // .paw, bundle folder, cached id
    switch (detect_file_kind(opt->path)) {
      case FileKind::Gguf: return info_gguf(*opt);
      case FileKind::Safetensors: return info_safetensors(*opt);
      default:
        throw Error("unrecognised file kind", opt->path, "paw info reads GGUF (.gguf) and safetensors files");
    }
  });
}

}  // namespace paw::cli
