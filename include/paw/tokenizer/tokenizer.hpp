#pragma once
// Byte-level BPE tokenizer (GPT-2 / Qwen2 family), token-for-token identical to Hugging Face
// `tokenizers` on the real Qwen3 and GPT-2 files.
//
// Pipeline: split raw text at added/special tokens (when parse_special) -> NFC normalise
// (qwen2 only) -> pre-tokenize (qwen2 or gpt2 rules) -> map bytes to the byte-level alphabet
// -> BPE merges by rank -> ids.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace paw {

class GGUFFile;
class GGUFWriter;

enum class PreTokenizer { Gpt2, Qwen2 };

// GGUF token_type values (llama.cpp's llama_token_type).
enum class TokenType : int32_t { Undefined = 0, Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

struct EncodeOptions {
  bool parse_special = true;  // match added/special tokens in the text (default: yes)
  bool add_bos = false;       // prepend BOS (only if the vocabulary has one)
};

struct DecodeOptions {
  bool skip_special = false;  // drop control/special tokens from the output
};

class Tokenizer {
 public:
  // From GGUF metadata: tokenizer.ggml.model must be "gpt2"; tokenizer.ggml.pre selects the
  // pre-tokenizer ("qwen2" -> Qwen2, "gpt-2"/"default"/... -> Gpt2).
  static Tokenizer from_gguf(const GGUFFile& file);
  // From a Hugging Face tokenizer.json (+ optional tokenizer_config.json for bos/eos/pad).
  static Tokenizer from_hf_json(const std::string& tokenizer_json_path, const std::string& tokenizer_config_path = {});
  static Tokenizer from_hf_json_text(std::string_view tokenizer_json, std::string_view tokenizer_config = {},
                                     const std::string& name = "tokenizer.json");
  // From OpenAI-style GPT-2 files: encoder.json + vocab.bpe (<|endoftext|> is special).
  static Tokenizer from_gpt2_files(const std::string& encoder_json_path, const std::string& vocab_bpe_path);
  // Loads by file kind: *.gguf, tokenizer.json, or a folder holding tokenizer.json.
  static Tokenizer load(const std::string& path);

  Tokenizer();
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& opt = {}) const;
  // Invalid UTF-8 produced by a byte sequence is replaced with U+FFFD.
  std::string decode(std::span<const int32_t> ids, const DecodeOptions& opt = {}) const;
  // Raw bytes of one token (byte-level alphabet mapped back; special tokens as their text).
  std::string token_bytes(int32_t id) const;

  int32_t n_vocab() const;                 // number of token strings (may be < model rows)
  const std::string& token_text(int32_t id) const;  // vocabulary string (byte-level alphabet)
  std::optional<int32_t> token_id(std::string_view text) const;
  TokenType token_type(int32_t id) const;
  PreTokenizer pre_tokenizer() const;

  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;
  std::optional<int32_t> eot_id() const;
  std::optional<int32_t> pad_id() const;
  bool add_bos_default() const;            // tokenizer.ggml.add_bos_token / config

  // Writes tokenizer.ggml.* keys (model, pre, tokens, token_type, merges, special ids) so a
  // GGUF built from this vocabulary tokenizes identically.
  void write_gguf_metadata(GGUFWriter& w) const;
  // The same, padding the token list to `n_rows` entries (the model's embedding rows) with
  // "[PAD<id>]" tokens of type UNUSED, as llama.cpp's convert script does (Qwen3: 151,936).
  void write_gguf_metadata(GGUFWriter& w, int32_t n_rows) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace paw
