#pragma once
// Hugging Face config.json -> model hyper-parameters, for the two interpreter families paw
// runs (Qwen3, GPT-2). Field names follow llama.cpp's hparams so the model layer can fill
// the same struct from GGUF metadata ("<arch>.block_count", ...) or from this; each field
// lists the config.json key and the GGUF key it corresponds to.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace paw {

struct HFModelConfig {
  // "qwen3" or "gpt2": the GGUF general.architecture name. From config.json model_type.
  std::string arch;
  // Class names from "architectures" (e.g. "Qwen3ForCausalLM"); empty when absent.
  std::vector<std::string> architectures;

  // qwen3: vocab_size | gpt2: vocab_size.  GGUF: rows of token_embd (tokenizer may be smaller).
  int64_t n_vocab = 0;
  // qwen3: hidden_size | gpt2: n_embd.  GGUF <arch>.embedding_length.
  int64_t n_embd = 0;
  // qwen3: intermediate_size | gpt2: n_inner (default 4 * n_embd).  GGUF <arch>.feed_forward_length.
  int64_t n_ff = 0;
  // qwen3: num_hidden_layers | gpt2: n_layer.  GGUF <arch>.block_count.
  int64_t n_layer = 0;
  // qwen3: num_attention_heads | gpt2: n_head.  GGUF <arch>.attention.head_count.
  int64_t n_head = 0;
  // qwen3: num_key_value_heads (default n_head) | gpt2: = n_head.  GGUF <arch>.attention.head_count_kv.
  int64_t n_head_kv = 0;
  // Per-head width of Q/K/V. qwen3: head_dim (default n_embd / n_head; Qwen3-0.6B sets 128,
  // not 1024/16 = 64) | gpt2: n_embd / n_head.  GGUF <arch>.attention.key_length / value_length.
  int64_t head_dim = 0;
  // Trained context: qwen3 max_position_embeddings (default 32768) | gpt2 n_positions, else
  // n_ctx (the hard cap: rows of the position embedding).  GGUF <arch>.context_length.
  int64_t n_ctx_train = 0;
  // qwen3: rms_norm_eps (RMSNorm, default 1e-6) | gpt2: layer_norm_epsilon (LayerNorm,
  // default 1e-5).  GGUF <arch>.attention.layer_norm_rms_epsilon / layer_norm_epsilon.
  double norm_eps = 0;
  // qwen3: rope_theta (default 10000; Qwen3 ships 1000000) | gpt2: 0 (no RoPE).  GGUF <arch>.rope.freq_base.
  double rope_theta = 0;
  // Output projection shares token embeddings (no lm_head / GGUF "output" tensor).
  // qwen3: tie_word_embeddings (default false, as transformers' Qwen3Config) | gpt2: default true.
  bool tie_word_embeddings = false;
  // MLP activation. qwen3: hidden_act, must be "silu" | gpt2: activation_function, one of
  // "gelu_new", "gelu_pytorch_tanh" (both tanh-approximate) or "gelu" (exact erf).
  std::string activation;
  // Special token ids when present (null / absent -> nullopt / empty). eos_token_id may be a
  // list in config.json; every id is kept, in order.
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;
  // Checkpoint dtype as declared ("torch_dtype", or newer "dtype"); informational, may be empty.
  std::string torch_dtype;
};

// Parses config.json text; `name` (the file path) appears in errors. Throws paw::Error
// naming the field and the file for a missing/mistyped/out-of-range field, an unsupported
// model_type or architectures entry, or a feature paw does not implement (rope_scaling,
// sliding window, attention bias on Qwen3; other activations on GPT-2).
HFModelConfig parse_hf_config(std::string_view json_text, const std::string& name);
// Reads and parses a config.json file (or <dir>/config.json when given a folder).
HFModelConfig load_hf_config(const std::string& path);

}  // namespace paw
