#pragma once
// Tokenizer internals shared by the loaders (load_*.cpp) and the encoder (tokenizer.cpp).
// Loaders fill a VocabSpec; build_impl() validates it and builds the lookup structures.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "paw/tokenizer/tokenizer.hpp"
#include "tokenizer/added_tokens.hpp"
#include "tokenizer/bpe.hpp"

namespace paw::tok {

// Caps on untrusted vocabularies (far above any real one: Qwen3 has 151,669 tokens).
constexpr int64_t kMaxVocab = 1 << 22;

// Everything a loader reads, before validation.
struct VocabSpec {
  std::string source;  // file name for error messages
  PreTokenizer pre = PreTokenizer::Gpt2;
  bool nfc = false;            // NFC normaliser (qwen2 files)
  bool ignore_merges = false;  // tokenizer.json model.ignore_merges
  std::string unk_token;       // tokenizer.json model.unk_token ("" = none)
  bool fuse_unk = false;

  // Model vocabulary: (byte-level text, id). Ids may leave gaps; a gap becomes an Unused token.
  std::vector<std::pair<std::string, int32_t>> vocab;
  // Merges in rank order, as token texts.
  std::vector<std::pair<std::string, std::string>> merges;
  // Added tokens (special or not). From GGUF these are the CONTROL / USER_DEFINED / UNKNOWN
  // tokens; they also appear in `vocab` there, with their type in `types`.
  std::vector<AddedToken> added;
  // Explicit token types by id (GGUF); empty for other sources.
  std::vector<TokenType> types;

  std::optional<int32_t> bos, eos, eot, pad;
  bool add_bos = false;
};

struct TokenizerImpl {
  std::string source;
  PreTokenizer pre = PreTokenizer::Gpt2;
  bool nfc = false;
  bool ignore_merges = false;
  int32_t unk_id = -1;
  bool fuse_unk = false;

  std::vector<std::string> tokens;                     // [n_vocab] text by id
  std::vector<TokenType> types;                        // [n_vocab]
  std::vector<int32_t> added_index;                    // [n_vocab] index into `added` or -1
  std::unordered_map<std::string, int32_t> model_ids;  // model vocabulary text -> id
  std::vector<std::pair<int32_t, int32_t>> merges;     // rank order, (left id, right id)
  std::vector<AddedToken> added;
  std::unordered_map<std::string, int32_t> added_ids;  // content -> id

  Bpe bpe;
  AddedMatcher raw_matcher;         // added tokens with normalized=false (or no normaliser)
  AddedMatcher normalized_matcher;  // the others, matched after NFC

  std::optional<int32_t> bos, eos, eot, pad;
  bool add_bos = false;
};

// Validates `spec` and fills `out` (a fresh TokenizerImpl); throws paw::Error naming spec.source.
void build_impl(VocabSpec spec, TokenizerImpl& out);

// eot as llama.cpp guesses it when the file does not say: the first of a fixed list of
// end-of-turn texts that is an added token.
std::optional<int32_t> guess_eot(const TokenizerImpl& t);

}  // namespace paw::tok

namespace paw {
// Tokenizer::Impl is the TokenizerImpl above (kept in the tok namespace for the loaders).
struct Tokenizer::Impl : tok::TokenizerImpl {};
}  // namespace paw
