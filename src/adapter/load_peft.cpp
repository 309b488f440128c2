// LoraAdapter::load_peft — Hugging Face PEFT LoRA folders (adapter_config.json +
// adapter_model.safetensors), converted to F32 and renamed to GGUF base tensor names.
//
// Orientation: PEFT's lora_A is an nn.Linear(in, r), saved as weight [r, in] (r rows of in),
// which is exactly llama.cpp's lora_a (ne [n_in, r]); lora_B is nn.Linear(r, out), saved as
// [out, r] = lora_b (ne [r, n_out]). This holds for GPT-2's Conv1D modules too: PEFT builds
// linear A/B for them and fan_in_fan_out only transposes the *merged* delta, so no tensor
// is transposed here.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "builder.hpp"
#include "peft_names.hpp"
#include "paw/adapter/lora.hpp"
#include "paw/formats/safetensors.hpp"
#include "paw/util/error.hpp"
#include "paw/util/mapped_file.hpp"
#include "paw/util/sha256.hpp"

namespace paw {
namespace fs = std::filesystem;
namespace {

using nlohmann::json;

constexpr std::string_view kPrefix = "base_model.model.";
constexpr std::string_view kTailA = ".lora_A.weight";
constexpr std::string_view kTailB = ".lora_B.weight";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool truthy(const json& cfg, const char* key) {
  auto it = cfg.find(key);
  return it != cfg.end() && it->is_boolean() && it->get<bool>();
}

bool nonempty(const json& cfg, const char* key) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return false;
  if (it->is_array() || it->is_object()) return !it->empty();
  if (it->is_string()) return !it->get<std::string>().empty();
  return true;
}

struct PeftConfig {
  int64_t r = 0;
  double alpha = 0.0;
  bool rslora = false;
  bool rank_pattern = false;
  bool fan_in_fan_out = false;             // parsed for completeness; see file comment
  std::vector<std::string> target_list;    // empty when target_modules is a regex / "all-linear" / null
  std::string base_model;
};

PeftConfig parse_config(const std::string& text, const std::string& where) {
  json cfg;
  try {
    cfg = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(std::string("adapter_config.json is not valid JSON: ") + e.what(), where, "re-save the PEFT adapter");
  }
  if (!cfg.is_object()) throw Error("adapter_config.json is not a JSON object", where, "re-save the PEFT adapter");
  PeftConfig c;
  try {
    if (auto it = cfg.find("peft_type"); it != cfg.end() && it->is_string() && it->get<std::string>() != "LORA")
      throw Error("peft_type is '" + it->get<std::string>() + "', only LORA adapters are supported", where + ": peft_type");
    auto r = cfg.find("r");
    if (r == cfg.end() || !r->is_number_integer() || r->get<int64_t>() <= 0)
      throw Error("'r' is missing or not a positive integer", where + ": r", "a PEFT LoRA config has \"r\": <rank>");
    c.r = r->get<int64_t>();
    auto a = cfg.find("lora_alpha");
    if (a == cfg.end() || !a->is_number() || !std::isfinite(a->get<double>()))
      throw Error("'lora_alpha' is missing or not a number", where + ": lora_alpha", "a PEFT LoRA config has \"lora_alpha\"");
    c.alpha = a->get<double>();
    c.fan_in_fan_out = truthy(cfg, "fan_in_fan_out");
    c.rslora = truthy(cfg, "use_rslora");
    c.rank_pattern = nonempty(cfg, "rank_pattern");
    if (auto b = cfg.find("base_model_name_or_path"); b != cfg.end() && b->is_string()) c.base_model = b->get<std::string>();
    if (auto t = cfg.find("target_modules"); t != cfg.end() && t->is_array())
      for (const json& m : *t) {
        if (!m.is_string()) throw Error("target_modules holds a non-string", where + ": target_modules");
        c.target_list.push_back(m.get<std::string>());
      }

    // Features whose effect a (pairs, alpha) adapter cannot express.
    if (truthy(cfg, "use_dora"))
      throw Error("DoRA adapters (use_dora) are not supported", where + ": use_dora",
                  "merge the adapter into the model or retrain with plain LoRA");
    if (nonempty(cfg, "modules_to_save"))
      throw Error("modules_to_save is not supported (it replaces whole base modules)", where + ": modules_to_save",
                  "retrain without modules_to_save, or merge the adapter into the model");
    if (auto b = cfg.find("bias"); b != cfg.end() && b->is_string() && b->get<std::string>() != "none")
      throw Error("bias='" + b->get<std::string>() + "' is not supported (it changes base biases)", where + ": bias",
                  "retrain with bias=\"none\"");
    if (truthy(cfg, "lora_bias"))
      throw Error("lora_bias is not supported", where + ": lora_bias", "retrain with lora_bias=false");
    if (auto ap = cfg.find("alpha_pattern"); ap != cfg.end() && ap->is_object())
      for (const auto& [k, v] : ap->items())
        if (!v.is_number() || v.get<double>() != c.alpha)
          throw Error("alpha_pattern gives module '" + k + "' its own alpha; one alpha per adapter is supported",
                      where + ": alpha_pattern", "retrain with a single lora_alpha");
  } catch (const json::exception& e) {
    throw Error(std::string("adapter_config.json has a field of the wrong type: ") + e.what(), where,
                "re-save the PEFT adapter");
  }
  return c;
}

// PEFT's target matching for a list: the module path equals an entry or ends with ".<entry>".
bool targeted(const std::vector<std::string>& targets, std::string_view module) {
  if (targets.empty()) return true;
  for (const std::string& t : targets)
    if (module == t || (module.size() > t.size() && ends_with(module, t) && module[module.size() - t.size() - 1] == '.'))
      return true;
  return false;
}

struct HalfPair {
  const SafetensorsTensor* a = nullptr;
  const SafetensorsTensor* b = nullptr;
  std::string module;
};

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

}  // namespace

std::shared_ptr<const LoraAdapter> LoraAdapter::load_peft(const std::string& dir, const std::string& arch) {
  if (arch != "qwen3" && arch != "gpt2")
    throw Error("architecture '" + arch + "' has no PEFT name mapping", dir, "supported: qwen3, gpt2");
  const fs::path cfg_path = fs::path(dir) / "adapter_config.json";
  const fs::path st_path = fs::path(dir) / "adapter_model.safetensors";
  std::error_code ec;
  if (!fs::exists(st_path, ec)) {
    const bool bin = fs::exists(fs::path(dir) / "adapter_model.bin", ec);
    throw Error("adapter_model.safetensors not found", dir,
                bin ? "this adapter is a pickle (adapter_model.bin); re-save it with safe_serialization=True"
                    : "a PEFT adapter folder holds adapter_config.json and adapter_model.safetensors");
  }
  const std::string cfg_text = read_file_to_string(cfg_path.string());
  const PeftConfig cfg = parse_config(cfg_text, cfg_path.string());

  const std::string st_name = st_path.string();
  MappedFile st_map = MappedFile::open(st_name);
  SafetensorsFile st = SafetensorsFile::parse(st_map.bytes(), st_name);

  // Group lora_A / lora_B by module path.
  std::map<std::string, HalfPair> halves;   // keyed by GGUF base name
  for (const SafetensorsTensor& t : st.tensors()) {
    const std::string loc = st_name + ": tensor '" + t.name + "'";
    std::string_view name = t.name;
    if (name.find("lora_magnitude_vector") != std::string_view::npos)
      throw Error("DoRA magnitude tensor found; DoRA is not supported", loc, "retrain with plain LoRA");
    if (name.find("lora_embedding_") != std::string_view::npos)
      throw Error("LoRA on an embedding module is not supported for PEFT import", loc,
                  "remove the embedding from target_modules");
    const bool is_a = ends_with(name, kTailA), is_b = ends_with(name, kTailB);
    if (name.substr(0, kPrefix.size()) != kPrefix || (!is_a && !is_b))
      throw Error("unexpected tensor in a PEFT LoRA adapter (expected base_model.model.<module>.lora_A.weight / lora_B.weight)",
                  loc, "modules_to_save, biases and other PEFT methods are not supported");
    std::string module(name.substr(kPrefix.size(), name.size() - kPrefix.size() - kTailA.size()));
    auto gguf = detail::peft_module_to_gguf(module, arch);
    if (!gguf)
      throw Error("module '" + module + "' has no " + arch + " linear paw can adapt", loc,
                  arch == "qwen3" ? "qwen3 adapters may target q/k/v/o_proj, gate/up/down_proj and lm_head"
                                  : "gpt2 adapters may target attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj and lm_head");
    if (!targeted(cfg.target_list, module))
      throw Error("module '" + module + "' is not in target_modules", loc, "adapter_config.json and the weights disagree");
    HalfPair& hp = halves[*gguf];
    if (!hp.module.empty() && hp.module != module)
      throw Error("modules '" + hp.module + "' and '" + module + "' both map to '" + *gguf + "'", loc,
                  "the adapter names one layer twice");
    hp.module = module;
    (is_a ? hp.a : hp.b) = &t;
  }

  detail::LoraAdapterBuilder builder;
  LoraAdapter::Storage& storage = builder.storage();
  std::set<int64_t> ranks;
  for (const auto& [base, hp] : halves) {
    if (!hp.a || !hp.b) {
      const SafetensorsTensor& have = hp.a ? *hp.a : *hp.b;
      throw Error(std::string("LoRA tensor has no matching ") + (hp.a ? "lora_B" : "lora_A"),
                  st_name + ": tensor '" + have.name + "'", "every adapted module needs lora_A and lora_B");
    }
    const std::string loc_a = st_name + ": tensor '" + hp.a->name + "'";
    const std::string loc_b = st_name + ": tensor '" + hp.b->name + "'";
    if (hp.a->shape.size() != 2 || hp.a->shape[0] <= 0 || hp.a->shape[1] <= 0)
      throw Error("lora_A has shape " + shape_str(hp.a->shape) + ", expected [r, in]", loc_a);
    if (hp.b->shape.size() != 2 || hp.b->shape[0] <= 0 || hp.b->shape[1] <= 0)
      throw Error("lora_B has shape " + shape_str(hp.b->shape) + ", expected [out, r]", loc_b);
    const int64_t r = hp.a->shape[0], n_in = hp.a->shape[1];
    const int64_t n_out = hp.b->shape[0];
    if (hp.b->shape[1] != r)
      throw Error("rank mismatch: lora_A " + shape_str(hp.a->shape) + " has rank " + std::to_string(r) + " but lora_B " +
                      shape_str(hp.b->shape) + " has rank " + std::to_string(hp.b->shape[1]),
                  loc_b, "lora_A must be [r, in] and lora_B [out, r]");
    if (!cfg.rank_pattern && r != cfg.r)
      throw Error("rank " + std::to_string(r) + " differs from the config's r = " + std::to_string(cfg.r), loc_a,
                  "adapter_config.json and the weights disagree");
    ranks.insert(r);
    // Owned F32 copies; views are taken only after both buffers are in place.
    storage.owned.push_back(st_tensor_to_f32(*hp.a, st_name));
    const float* a_data = storage.owned.back().data();
    storage.owned.push_back(st_tensor_to_f32(*hp.b, st_name));
    const float* b_data = storage.owned.back().data();
    LoraPair pair;
    pair.a = MatrixView{DType::F32, r, n_in, reinterpret_cast<const uint8_t*>(a_data)};
    pair.b = MatrixView{DType::F32, n_out, r, reinterpret_cast<const uint8_t*>(b_data)};
    builder.pairs().emplace(base, pair);
  }

  // rsLoRA scales by alpha/sqrt(r); with one rank that is an ordinary alpha of alpha·sqrt(r).
  double alpha = cfg.alpha;
  if (cfg.rslora) {
    if (ranks.size() > 1)
      throw Error("use_rslora with modules of different ranks cannot be expressed with one alpha",
                  cfg_path.string() + ": use_rslora", "retrain with a single rank or without rsLoRA");
    const double r = ranks.empty() ? static_cast<double>(cfg.r) : static_cast<double>(*ranks.begin());
    alpha = cfg.alpha * std::sqrt(r);
  }

  // Identity covers both files: sha256(u64le |config| ‖ config ‖ u64le |weights| ‖ weights).
  Sha256 h;
  auto put_len = [&](uint64_t n) {
    uint8_t le[8];
    for (int i = 0; i < 8; ++i) le[i] = static_cast<uint8_t>(n >> (8 * i));
    h.update(le, 8);
  };
  put_len(cfg_text.size());
  h.update(cfg_text);
  put_len(st_map.size());
  h.update(st_map.data(), st_map.size());

  builder.set_identity(dir, arch, static_cast<float>(alpha), h.hex_digest());
  return builder.finish();
}

}  // namespace paw
