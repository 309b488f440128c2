#pragma once
// Byte-level BPE training (GPT-2 / Qwen2 style) for the small interpreters paw trains.
//
// Text is cut at the special-token texts, NFC-normalised (qwen2), split by the same
// pre-tokenizer the encoder uses, and counted as byte strings. Training starts from the 256
// byte tokens (ids 0..255 in GPT-2's bytes_to_unicode order, as in GPT-2's and Qwen's vocabularies)
// and repeatedly merges the most frequent adjacent pair, updating pair counts incrementally
// (only the words that contain the merged pair are revisited).
//
// Tie-breaking (documented, deterministic): among pairs with the same count, the pair whose
// left token's raw bytes sort first wins, then the right token's bytes (bytewise, shorter
// prefix first). A merge whose result already exists as a token (e.g. "a"+"bc" after "ab"+"c")
// is recorded but reuses that token, as Hugging Face's trainer does.
//
// Result: the BPE vocabulary (vocab_size tokens including the 256 bytes, fewer if the corpus
// runs out of pairs) followed by the special tokens. It is written as GGUF tokenizer metadata
// (tokenizer.ggml.*, model "gpt2", pre "qwen2"), and/or as a Hugging Face tokenizer.json +
// tokenizer_config.json; both load with paw::Tokenizer and tokenize identically.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "paw/tokenizer/tokenizer.hpp"

namespace paw {

class GGUFWriter;

struct BpeTrainOptions {
  // BPE tokens including the 256 byte tokens; the special tokens are added after these.
  int32_t vocab_size = 2048;
  // A pair is merged only if it occurs at least this many times.
  int64_t min_frequency = 2;
  // Qwen2 (NFC + Qwen's split, GGUF pre "qwen2") or GPT-2 (no normaliser, GGUF pre "gpt-2").
  PreTokenizer pre = PreTokenizer::Qwen2;
  // Special tokens, in id order after the BPE vocabulary. Control tokens (type CONTROL) are
  // matched only when parsing special tokens and skipped by decode(skip_special); user tokens
  // (USER_DEFINED) are always matched — Qwen3 marks <think>/</think> this way.
  std::vector<std::string> control_tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  std::vector<std::string> user_tokens = {"<think>", "</think>"};
  // Special ids by token text ("" = none), as Qwen3's GGUF sets them.
  std::string bos = "<|endoftext|>";
  std::string eos = "<|im_end|>";
  std::string eot = "<|im_end|>";
  std::string pad = "<|endoftext|>";
};

// A trained vocabulary.
struct BpeVocab {
  PreTokenizer pre = PreTokenizer::Qwen2;
  std::vector<std::string> tokens;  // by id: byte-level alphabet text; special tokens as raw text
  std::vector<TokenType> types;     // by id: Normal, Control or UserDefined
  std::vector<std::pair<std::string, std::string>> merges;  // rank order, byte-level texts
  int32_t n_bpe = 0;                // tokens before the special tokens
  std::optional<int32_t> bos, eos, eot, pad;

  // tokenizer.ggml.* keys (model, pre, tokens, token_type, merges, special ids, add_bos_token).
  void write_gguf_metadata(GGUFWriter& w) const;
  // A GGUF file holding only tokenizer metadata (plus general.name).
  std::vector<uint8_t> gguf_bytes() const;
  void write_gguf(const std::string& path) const;  // atomic
  // Hugging Face files (Qwen2-style layout: NFC normaliser, Split + ByteLevel pre-tokenizer).
  std::string hf_tokenizer_json() const;
  std::string hf_tokenizer_config_json() const;
  // Writes tokenizer.json and tokenizer_config.json into `dir` (created if missing).
  void write_hf_dir(const std::string& dir) const;
};

class BpeTrainer {
 public:
  explicit BpeTrainer(BpeTrainOptions opt = {});

  // Adds one document. Special-token texts in it are cut out (they never join BPE words).
  void add_text(std::string_view text);
  // Adds a pre-tokenized word (raw bytes) `count` times (tests, pre-counted corpora).
  void add_word(std::string_view bytes, uint64_t count = 1);

  size_t n_distinct_words() const { return words_.size(); }
  uint64_t n_words() const { return total_words_; }

  // Validates the options and trains; throws paw::Error on bad options.
  BpeVocab train() const;

 private:
  BpeTrainOptions opt_;
  std::unordered_map<std::string, uint64_t> words_;  // pre-token bytes -> count
  uint64_t total_words_ = 0;
};

}  // namespace paw
