#pragma once
// Model hyper-parameters, read from GGUF metadata ("<arch>.*" keys, llama.cpp's names) or from
// a Hugging Face config.json. One struct for the architectures paw runs.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace paw {

class GGUFFile;
struct HFModelConfig;

// Qwen3 and Llama share one block (RMSNorm, GQA with RoPE, SwiGLU); Qwen3 adds RMSNorms over
// each head of Q and K. GPT-2 is the LayerNorm / learned-position / GELU family.
enum class Arch { Qwen3, Llama, Gpt2 };

std::string_view arch_name(Arch a);                         // "qwen3", "llama", "gpt2"
std::optional<Arch> arch_from_name(std::string_view name);  // GGUF general.architecture
// Qwen3 and Llama: RMSNorm, rotary positions, SwiGLU (the "llama family" block).
inline bool is_llama_family(Arch a) { return a != Arch::Gpt2; }

// How RoPE pairs the values of a head. NeoX (Qwen3; Llama as Hugging Face stores it): value i
// with i + head_dim/2. Interleaved (Llama as llama.cpp's converter stores it, with the Q/K rows
// permuted to match; ggml's "normal" mode): value 2i with 2i + 1.
enum class RopeStyle { Neox, Interleaved };

struct HParams {
  Arch arch = Arch::Qwen3;
  int64_t n_vocab = 0;      // rows of token_embd (the tokenizer's list may be shorter in HF files)
  int64_t n_embd = 0;       // <arch>.embedding_length
  int64_t n_layer = 0;      // <arch>.block_count
  int64_t n_head = 0;       // <arch>.attention.head_count
  int64_t n_head_kv = 0;    // <arch>.attention.head_count_kv (default n_head)
  int64_t head_dim_k = 0;   // <arch>.attention.key_length (default n_embd / n_head; Qwen3-0.6B: 128 ≠ 64)
  int64_t head_dim_v = 0;   // <arch>.attention.value_length (default head_dim_k)
  int64_t n_ff = 0;         // <arch>.feed_forward_length
  int64_t n_ctx_train = 0;  // <arch>.context_length (GPT-2: rows of position_embd, a hard cap)
  double norm_eps = 0;      // qwen3: attention.layer_norm_rms_epsilon; gpt2: attention.layer_norm_epsilon
  double rope_theta = 0;    // qwen3/llama: rope.freq_base (default 10000); gpt2: unused (0)
  RopeStyle rope_style = RopeStyle::Neox;  // llama GGUF: Interleaved

  int64_t q_dim() const { return n_head * head_dim_k; }     // rows of attn_q
  int64_t k_dim() const { return n_head_kv * head_dim_k; }  // rows of attn_k, width of a K cache row
  int64_t v_dim() const { return n_head_kv * head_dim_v; }  // rows of attn_v, width of a V cache row
  int64_t o_dim() const { return n_head * head_dim_v; }     // columns of attn_output
};

// From GGUF metadata. general.architecture must be "qwen3", "llama" or "gpt2". n_vocab comes from
// <arch>.vocab_size, else the length of tokenizer.ggml.tokens, else the rows of token_embd.
// Throws paw::Error naming the file and key for a missing or invalid value.
HParams hparams_from_gguf(const GGUFFile& f);
// From a parsed config.json.
HParams hparams_from_hf(const HFModelConfig& c, const std::string& where);
// Checks positivity and divisibility (n_head % n_head_kv, even head_dim for RoPE, ...).
void validate_hparams(const HParams& hp, const std::string& where);

}  // namespace paw
