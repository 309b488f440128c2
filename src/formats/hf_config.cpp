// HF config.json -> HFModelConfig. Defaults mirror transformers' Qwen3Config / GPT2Config
// for optional fields; the size fields are required (a default silently mismatching the
// weights would surface much later as a confusing shape error).
#include "paw/formats/hf_config.hpp"

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "paw/util/error.hpp"
#include "paw/util/mapped_file.hpp"

namespace paw {
namespace {

using json = nlohmann::json;

// Largest accepted size field: keeps products like n_head * head_dim far from overflow.
constexpr int64_t kMaxDim = (int64_t{1} << 31) - 1;

class ConfigReader {
 public:
  ConfigReader(const json& j, const std::string& file) : j_(j), file_(file) {}

  const std::string& file() const { return file_; }

  [[noreturn]] void fail(std::string_view key, const std::string& what, const std::string& hint) const {
    throw Error(what, file_ + ": field '" + std::string(key) + "'", hint);
  }

  // Absent and null both mean "use the default", as in transformers.
  const json* find(std::string_view key) const {
    auto it = j_.find(key);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }

  int64_t integer(std::string_view key, const json& v, int64_t lo, int64_t hi) const {
    int64_t x = 0;
    if (v.is_number_integer()) {  // includes unsigned
      if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
        fail(key, "value " + v.dump() + " is out of range", "expected " + std::to_string(lo) + ".." + std::to_string(hi));
      x = v.get<int64_t>();
    } else if (v.is_number_float() && std::isfinite(v.get<double>()) && v.get<double>() == std::floor(v.get<double>()) &&
               std::fabs(v.get<double>()) < 9e18) {
      x = static_cast<int64_t>(v.get<double>());  // "1024.0" written by some exporters
    } else {
      fail(key, "expected an integer, got " + v.dump(), "fix config.json");
    }
    if (x < lo || x > hi)
      fail(key, "value " + std::to_string(x) + " is out of range", "expected " + std::to_string(lo) + ".." + std::to_string(hi));
    return x;
  }

  int64_t req_dim(std::string_view key) const {
    const json* v = find(key);
    if (!v) fail(key, "missing required field", "config.json must give the model's size fields");
    return integer(key, *v, 1, kMaxDim);
  }
  int64_t opt_dim(std::string_view key, int64_t def) const {
    const json* v = find(key);
    return v ? integer(key, *v, 1, kMaxDim) : def;
  }

  // Positive finite real (epsilons, RoPE base).
  double opt_positive(std::string_view key, double def) const {
    const json* v = find(key);
    if (!v) return def;
    if (!v->is_number()) fail(key, "expected a number, got " + v->dump(), "fix config.json");
    double x = v->get<double>();
    if (!(x > 0) || !std::isfinite(x)) fail(key, "value " + v->dump() + " must be positive and finite", "fix config.json");
    return x;
  }

  bool opt_bool(std::string_view key, bool def) const {
    const json* v = find(key);
    if (!v) return def;
    if (!v->is_boolean()) fail(key, "expected true or false, got " + v->dump(), "fix config.json");
    return v->get<bool>();
  }

  std::string opt_string(std::string_view key, std::string def) const {
    const json* v = find(key);
    if (!v) return def;
    if (!v->is_string()) fail(key, "expected a string, got " + v->dump(), "fix config.json");
    return v->get<std::string>();
  }

  std::optional<int64_t> opt_token(std::string_view key) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    return integer(key, *v, 0, INT32_MAX);
  }

  std::vector<int64_t> opt_token_list(std::string_view key) const {
    const json* v = find(key);
    if (!v) return {};
    if (!v->is_array()) return {integer(key, *v, 0, INT32_MAX)};
    std::vector<int64_t> out;
    for (const auto& e : *v) out.push_back(integer(key, e, 0, INT32_MAX));
    return out;
  }

 private:
  const json& j_;
  const std::string& file_;
};

void read_common(const ConfigReader& r, HFModelConfig& c) {
  c.bos_token_id = r.opt_token("bos_token_id");
  c.eos_token_ids = r.opt_token_list("eos_token_id");
  c.torch_dtype = r.opt_string("torch_dtype", r.opt_string("dtype", ""));
}

// RoPE variants other than plain RoPE change every attention score: refuse them.
void require_default_rope(const ConfigReader& r, std::string_view key) {
  const json* v = r.find(key);
  if (!v) return;
  if (!v->is_object()) r.fail(key, "expected an object or null, got " + v->dump(), "fix config.json");
  std::string type = "default";
  for (const char* k : {"rope_type", "type"})
    if (auto it = v->find(k); it != v->end() && it->is_string()) type = it->get<std::string>();
  if (type != "default")
    r.fail(key, "RoPE scaling type '" + type + "' is not supported", "paw implements plain RoPE only (rope_scaling: null)");
}

void read_qwen3(const ConfigReader& r, HFModelConfig& c) {
  c.n_vocab = r.req_dim("vocab_size");
  c.n_embd = r.req_dim("hidden_size");
  c.n_ff = r.req_dim("intermediate_size");
  c.n_layer = r.req_dim("num_hidden_layers");
  c.n_head = r.req_dim("num_attention_heads");
  c.n_head_kv = r.opt_dim("num_key_value_heads", c.n_head);
  if (c.n_head % c.n_head_kv != 0)
    r.fail("num_key_value_heads",
           "num_attention_heads (" + std::to_string(c.n_head) + ") is not a multiple of num_key_value_heads (" +
               std::to_string(c.n_head_kv) + ")",
           "grouped-query attention needs whole groups of query heads per KV head");
  if (!r.find("head_dim") && c.n_embd % c.n_head != 0)
    r.fail("head_dim", "missing, and hidden_size is not divisible by num_attention_heads",
           "add \"head_dim\" to config.json");
  c.head_dim = r.opt_dim("head_dim", c.n_embd / c.n_head);
  c.n_ctx_train = r.opt_dim("max_position_embeddings", 32768);
  c.norm_eps = r.opt_positive("rms_norm_eps", 1e-6);

  // transformers v5 moves rope_theta into "rope_parameters"; accept either spelling.
  double theta = 10000.0;
  if (const json* rp = r.find("rope_parameters"); rp && rp->is_object() && rp->contains("rope_theta")) {
    ConfigReader sub(*rp, r.file());
    theta = sub.opt_positive("rope_theta", theta);
  }
  c.rope_theta = r.opt_positive("rope_theta", theta);
  require_default_rope(r, "rope_scaling");
  require_default_rope(r, "rope_parameters");

  c.tie_word_embeddings = r.opt_bool("tie_word_embeddings", false);
  c.activation = r.opt_string("hidden_act", "silu");
  if (c.activation != "silu")
    r.fail("hidden_act", "activation '" + c.activation + "' is not supported for qwen3", "Qwen3 uses \"silu\"");
  if (r.opt_bool("attention_bias", false))
    r.fail("attention_bias", "attention biases are not supported for qwen3", "Qwen3 checkpoints have none");
  if (r.opt_bool("use_sliding_window", false))
    r.fail("use_sliding_window", "sliding-window attention is not supported", "paw runs full attention only");
}

void read_gpt2(const ConfigReader& r, HFModelConfig& c) {
  c.n_vocab = r.req_dim("vocab_size");
  c.n_embd = r.req_dim("n_embd");
  c.n_layer = r.req_dim("n_layer");
  c.n_head = r.req_dim("n_head");
  if (c.n_embd % c.n_head != 0)
    r.fail("n_head", "n_embd (" + std::to_string(c.n_embd) + ") is not divisible by n_head (" +
                         std::to_string(c.n_head) + ")",
           "GPT-2 heads split n_embd evenly");
  c.n_head_kv = c.n_head;
  c.head_dim = c.n_embd / c.n_head;
  if (r.find("n_positions")) {
    c.n_ctx_train = r.req_dim("n_positions");
  } else if (r.find("n_ctx")) {
    c.n_ctx_train = r.req_dim("n_ctx");
  } else {
    r.fail("n_positions", "missing required field (nor is the older 'n_ctx' given)",
           "config.json must give the number of position embeddings");
  }
  if (c.n_embd > kMaxDim / 4 && !r.find("n_inner"))
    r.fail("n_inner", "4 * n_embd is out of range", "set n_inner explicitly");
  c.n_ff = r.opt_dim("n_inner", 4 * c.n_embd);
  c.norm_eps = r.opt_positive("layer_norm_epsilon", 1e-5);
  c.rope_theta = 0;
  c.tie_word_embeddings = r.opt_bool("tie_word_embeddings", true);
  c.activation = r.opt_string("activation_function", "gelu_new");
  if (c.activation != "gelu_new" && c.activation != "gelu_pytorch_tanh" && c.activation != "gelu")
    r.fail("activation_function", "activation '" + c.activation + "' is not supported for gpt2",
           "supported: gelu_new, gelu_pytorch_tanh, gelu");
  if (!r.opt_bool("scale_attn_weights", true))
    r.fail("scale_attn_weights", "unscaled attention is not supported", "GPT-2 scales scores by 1/sqrt(head_dim)");
  if (r.opt_bool("scale_attn_by_inverse_layer_idx", false))
    r.fail("scale_attn_by_inverse_layer_idx", "per-layer attention scaling is not supported",
           "paw implements the original GPT-2 attention");
}

struct ArchInfo {
  std::string_view model_type;
  std::vector<std::string_view> classes;  // accepted "architectures" entries
  void (*read)(const ConfigReader&, HFModelConfig&);
};

const std::vector<ArchInfo>& arch_table() {
  static const std::vector<ArchInfo> t = {
      {"qwen3", {"Qwen3ForCausalLM", "Qwen3Model"}, read_qwen3},
      {"gpt2", {"GPT2LMHeadModel", "GPT2Model"}, read_gpt2},
  };
  return t;
}

}  // namespace

HFModelConfig parse_hf_config(std::string_view json_text, const std::string& name) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw Error(std::string("config is not valid JSON: ") + e.what(), at_offset(name, e.byte > 0 ? e.byte - 1 : 0),
                "config.json is corrupt; download it again");
  } catch (const json::exception& e) {  // e.g. a number literal past double's range
    throw Error(std::string("config is not valid JSON: ") + e.what(), name, "config.json is corrupt; download it again");
  }
  if (!j.is_object()) throw Error("config is not a JSON object", name, "expected a Hugging Face config.json");
  ConfigReader r(j, name);

  HFModelConfig c;
  c.arch = r.opt_string("model_type", "");
  if (c.arch.empty()) r.fail("model_type", "missing required field", "expected \"qwen3\" or \"gpt2\"");
  const ArchInfo* arch = nullptr;
  for (const auto& a : arch_table())
    if (a.model_type == c.arch) arch = &a;
  if (!arch)
    r.fail("model_type", "unsupported model_type '" + c.arch + "'",
           c.arch == "llama" ? "paw runs llama models from GGUF files (llama.cpp's convert_hf_to_gguf.py writes one)"
                             : "paw runs \"qwen3\" and \"gpt2\" models");

  if (const json* a = r.find("architectures")) {
    if (!a->is_array()) r.fail("architectures", "expected a list of class names, got " + a->dump(), "fix config.json");
    bool supported = a->empty();
    for (const auto& e : *a) {
      if (!e.is_string()) r.fail("architectures", "expected a list of class names, got " + a->dump(), "fix config.json");
      c.architectures.push_back(e.get<std::string>());
      for (auto cls : arch->classes) supported |= (cls == c.architectures.back());
    }
    if (!supported) {
      std::string ok;
      for (auto cls : arch->classes) ok += (ok.empty() ? "" : ", ") + std::string(cls);
      r.fail("architectures", "unsupported architectures " + a->dump() + " for model_type '" + c.arch + "'",
             "paw loads " + ok);
    }
  }
  read_common(r, c);
  arch->read(r, c);
  return c;
}

HFModelConfig load_hf_config(const std::string& path) {
  std::string file = path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) file = (std::filesystem::path(path) / "config.json").string();
  return parse_hf_config(read_file_to_string(file), file);
}

}  // namespace paw
