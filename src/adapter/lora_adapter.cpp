// LoraAdapter accessors and the load() dispatcher (GGUF file vs PEFT folder).
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "builder.hpp"
#include "paw/adapter/lora.hpp"
#include "paw/util/error.hpp"
#include "paw/util/mapped_file.hpp"

namespace paw {
namespace fs = std::filesystem;

const LoraPair* LoraAdapter::find(const std::string& base_name) const {
  auto it = pairs_.find(base_name);
  return it == pairs_.end() ? nullptr : &it->second;
}

float LoraAdapter::pair_factor(const LoraPair& p) const {
  // llama.cpp: scale = alpha ? user_scale * alpha / rank : user_scale.
  if (alpha_ == 0.0f || p.rank() <= 0) return 1.0f;
  return alpha_ / static_cast<float>(p.rank());
}

float LoraAdapter::embedding_factor() const {
  if (!embedding_ || alpha_ == 0.0f || embedding_->rank() <= 0) return 1.0f;
  return alpha_ / static_cast<float>(embedding_->rank());
}

namespace {

// Guesses "qwen3" / "gpt2" from a PEFT config's base_model_name_or_path; empty if unsure.
std::string guess_peft_arch(const fs::path& dir) {
  fs::path cfg = dir / "adapter_config.json";
  std::string base;
  try {
    auto j = nlohmann::json::parse(read_file_to_string(cfg.string()));
    if (j.is_object() && j.contains("base_model_name_or_path") && j["base_model_name_or_path"].is_string())
      base = j["base_model_name_or_path"].get<std::string>();
  } catch (const std::exception&) {
    return {};  // load_peft reports the real problem with the config
  }
  std::transform(base.begin(), base.end(), base.begin(), [](unsigned char c) { return std::tolower(c); });
  const bool qwen = base.find("qwen3") != std::string::npos;
  const bool gpt2 = base.find("gpt2") != std::string::npos || base.find("gpt-2") != std::string::npos;
  if (qwen == gpt2) return {};
  return qwen ? "qwen3" : "gpt2";
}

}  // namespace

std::shared_ptr<const LoraAdapter> LoraAdapter::load(const std::string& path, const std::string& arch_hint) {
  std::error_code ec;
  fs::path p(path);
  fs::path peft_dir;
  if (fs::is_directory(p, ec)) {
    peft_dir = p;
  } else {
    const std::string leaf = p.filename().string();
    if (leaf == "adapter_config.json" || leaf == "adapter_model.safetensors") peft_dir = p.parent_path();
  }
  if (!peft_dir.empty()) {
    std::string arch = arch_hint.empty() ? guess_peft_arch(peft_dir) : arch_hint;
    if (arch.empty())
      throw Error("cannot tell the base architecture of this PEFT adapter", (peft_dir / "adapter_config.json").string(),
                  "pass the architecture explicitly (qwen3 or gpt2)");
    return load_peft(peft_dir.string(), arch);
  }
  auto adapter = load_gguf(path);
  if (!arch_hint.empty() && adapter->arch() != arch_hint)
    throw Error("adapter is for architecture '" + adapter->arch() + "', expected '" + arch_hint + "'",
                path + ": general.architecture", "use an adapter made for this base model");
  return adapter;
}

}  // namespace paw
