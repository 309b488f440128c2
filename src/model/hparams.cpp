// Hyper-parameters from GGUF metadata (llama.cpp's "<arch>.*" keys) and from config.json.
#include "paw/model/hparams.hpp"

#include <cmath>
#include <string>

#include "paw/formats/gguf.hpp"
#include "paw/formats/hf_config.hpp"
#include "paw/util/error.hpp"

namespace paw {

std::string_view arch_name(Arch a) {
  switch (a) {
    case Arch::Qwen3: return "qwen3";
    case Arch::Llama: return "llama";
    case Arch::Gpt2: return "gpt2";
  }
  return "?";
}

std::optional<Arch> arch_from_name(std::string_view name) {
  if (name == "qwen3") return Arch::Qwen3;
  if (name == "llama") return Arch::Llama;
  if (name == "gpt2") return Arch::Gpt2;
  return std::nullopt;
}

namespace {

int64_t get_count(const GGUFFile& f, const std::string& key) {
  const GGUFValue* v = f.find(key);
  if (!v) throw Error("missing metadata key '" + key + "'", f.path(), "the file is not a complete llama.cpp model");
  const uint64_t n = v->as_u64();
  if (n == 0 || n > (uint64_t{1} << 31))
    throw Error("metadata key '" + key + "' has out-of-range value " + std::to_string(n), f.path());
  return static_cast<int64_t>(n);
}

int64_t get_count_or(const GGUFFile& f, const std::string& key, int64_t def) {
  return f.find(key) ? get_count(f, key) : def;
}

}  // namespace

HParams hparams_from_gguf(const GGUFFile& f) {
  const std::string arch_s = f.get_string("general.architecture");
  const auto arch = arch_from_name(arch_s);
  if (!arch)
    throw Error("unsupported architecture '" + arch_s + "'", f.path() + ": general.architecture",
                "paw runs qwen3, llama and gpt2 models");
  const std::string p = arch_s + ".";
  HParams hp;
  hp.arch = *arch;
  hp.n_embd = get_count(f, p + "embedding_length");
  hp.n_layer = get_count(f, p + "block_count");
  hp.n_head = get_count(f, p + "attention.head_count");
  hp.n_head_kv = get_count_or(f, p + "attention.head_count_kv", hp.n_head);
  hp.n_ff = get_count(f, p + "feed_forward_length");
  hp.n_ctx_train = get_count(f, p + "context_length");
  if (hp.n_embd % hp.n_head != 0 && !f.find(p + "attention.key_length"))
    throw Error("embedding_length is not a multiple of head_count and key_length is absent", f.path());
  hp.head_dim_k = get_count_or(f, p + "attention.key_length", hp.n_embd / hp.n_head);
  hp.head_dim_v = get_count_or(f, p + "attention.value_length", hp.head_dim_k);
  if (is_llama_family(hp.arch)) {
    // llama.cpp's converter permutes a Llama's Q/K rows for interleaved RoPE.
    if (hp.arch == Arch::Llama) hp.rope_style = RopeStyle::Interleaved;
    hp.norm_eps = f.get_f64_or(p + "attention.layer_norm_rms_epsilon", 1e-6);
    hp.rope_theta = f.get_f64_or(p + "rope.freq_base", 10000.0);
    const int64_t n_rot = get_count_or(f, p + "rope.dimension_count", hp.head_dim_k);
    if (n_rot != hp.head_dim_k)
      throw Error("partial rotary embedding (rope.dimension_count " + std::to_string(n_rot) + " != head_dim " +
                      std::to_string(hp.head_dim_k) + ") is not supported",
                  f.path() + ": " + p + "rope.dimension_count");
  } else {
    hp.norm_eps = f.get_f64_or(p + "attention.layer_norm_epsilon", 1e-5);
    hp.rope_theta = 0.0;
  }
  // Vocabulary: explicit key, else the tokenizer list, else the embedding rows.
  if (f.find(p + "vocab_size")) {
    hp.n_vocab = get_count(f, p + "vocab_size");
  } else if (const GGUFValue* toks = f.find("tokenizer.ggml.tokens"); toks && toks->type() == GGUFType::ARRAY) {
    hp.n_vocab = static_cast<int64_t>(toks->as_array().size());
  } else if (const GGUFTensorInfo* te = f.find_tensor("token_embd.weight"); te && te->ne.size() >= 2) {
    hp.n_vocab = te->ne[1];
  } else {
    throw Error("cannot determine the vocabulary size", f.path(),
                "the file has no " + p + "vocab_size, tokenizer.ggml.tokens or token_embd.weight");
  }
  validate_hparams(hp, f.path());
  return hp;
}

HParams hparams_from_hf(const HFModelConfig& c, const std::string& where) {
  const auto arch = arch_from_name(c.arch);
  // parse_hf_config accepts qwen3 and gpt2 only (and says how to run a llama checkpoint).
  if (!arch || *arch == Arch::Llama)
    throw Error("unsupported model_type '" + c.arch + "'", where, "paw reads qwen3 and gpt2 Hugging Face folders");
  HParams hp;
  hp.arch = *arch;
  hp.n_vocab = c.n_vocab;
  hp.n_embd = c.n_embd;
  hp.n_layer = c.n_layer;
  hp.n_head = c.n_head;
  hp.n_head_kv = c.n_head_kv > 0 ? c.n_head_kv : c.n_head;
  hp.head_dim_k = c.head_dim > 0 ? c.head_dim : (c.n_head > 0 ? c.n_embd / c.n_head : 0);
  hp.head_dim_v = hp.head_dim_k;
  hp.n_ff = c.n_ff;
  hp.n_ctx_train = c.n_ctx_train;
  hp.norm_eps = c.norm_eps;
  hp.rope_theta = is_llama_family(hp.arch) ? c.rope_theta : 0.0;
  if (hp.arch == Arch::Gpt2 && c.activation == "gelu")
    throw Error("GPT-2 with exact (erf) GELU is not supported", where + ": activation_function",
                "paw implements the tanh approximation (gelu_new)");
  validate_hparams(hp, where);
  return hp;
}

void validate_hparams(const HParams& hp, const std::string& where) {
  auto fail = [&](const std::string& what) {
    throw Error("invalid hyper-parameters: " + what, where, "the model metadata is inconsistent");
  };
  if (hp.n_vocab <= 0 || hp.n_embd <= 0 || hp.n_layer <= 0 || hp.n_head <= 0 || hp.n_head_kv <= 0 ||
      hp.head_dim_k <= 0 || hp.head_dim_v <= 0 || hp.n_ff <= 0 || hp.n_ctx_train <= 0)
    fail("every size must be positive");
  if (hp.n_head % hp.n_head_kv != 0)
    fail("head_count " + std::to_string(hp.n_head) + " is not a multiple of head_count_kv " +
         std::to_string(hp.n_head_kv));
  if (!(hp.norm_eps > 0) || !std::isfinite(hp.norm_eps)) fail("norm epsilon must be positive");
  if (is_llama_family(hp.arch)) {
    if (hp.head_dim_k % 2 != 0) fail("RoPE needs an even head_dim");
    if (!(hp.rope_theta > 0) || !std::isfinite(hp.rope_theta)) fail("rope.freq_base must be positive");
  } else {
    if (hp.n_head_kv != hp.n_head || hp.head_dim_k * hp.n_head != hp.n_embd || hp.head_dim_v != hp.head_dim_k)
      fail("gpt2 needs n_head_kv == n_head and head_dim == n_embd / n_head");
  }
  // Sizes are products of these; keep every buffer size far from overflow.
  if (hp.n_embd > (1 << 20) || hp.n_ff > (1 << 22) || hp.n_layer > 4096 || hp.n_head > 4096 ||
      hp.head_dim_k > 4096 || hp.head_dim_v > 4096 || hp.n_vocab > (1 << 24) || hp.n_ctx_train > (int64_t{1} << 31))
    fail("a size is implausibly large");
}

}  // namespace paw
