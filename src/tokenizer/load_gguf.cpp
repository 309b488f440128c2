// GGUF tokenizer metadata, read and written as llama.cpp does (keys tokenizer.ggml.*):
//   model "gpt2" (byte-level BPE), pre "qwen2" | "gpt-2" | "default", tokens (string array),
//   token_type (i32 array, llama_token_type), merges ("left right" strings in rank order),
//   bos/eos/eot/padding token ids (u32), add_bos_token (bool).
// Token types: CONTROL (3) and UNKNOWN (2) tokens are special (matched only when parsing
// special tokens, skipped by decode(skip_special)); USER_DEFINED (4) tokens are always
// matched; both are stored as raw text. UNUSED (5) tokens are padding and decode to nothing.
#include "paw/formats/gguf.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/util/error.hpp"
#include "tokenizer/tokenizer_impl.hpp"

#include <unordered_set>

namespace paw {
namespace {

constexpr const char* kModel = "tokenizer.ggml.model";
constexpr const char* kPre = "tokenizer.ggml.pre";
constexpr const char* kTokens = "tokenizer.ggml.tokens";
constexpr const char* kTypes = "tokenizer.ggml.token_type";
constexpr const char* kMerges = "tokenizer.ggml.merges";
constexpr const char* kBos = "tokenizer.ggml.bos_token_id";
constexpr const char* kEos = "tokenizer.ggml.eos_token_id";
constexpr const char* kEot = "tokenizer.ggml.eot_token_id";
constexpr const char* kPad = "tokenizer.ggml.padding_token_id";
constexpr const char* kAddBos = "tokenizer.ggml.add_bos_token";

// llama.cpp's convert script marks added tokens that look like control tokens as CONTROL even
// when tokenizer.json says special=false (e.g. Qwen's <|fim_prefix|>).
bool looks_special(const std::string& s) {
  auto starts = [&](std::string_view p) { return s.starts_with(p); };
  auto ends = [&](std::string_view p) { return s.ends_with(p); };
  if (s == "<pad>" || s == "<mask>" || s == "<2mass>" || s == "[@BOS@]") return true;
  if (starts("<|") && ends("|>")) return true;
  if (starts("<\uFF5C") && ends("\uFF5C>")) return true;  // <｜ ... ｜> (deepseek)
  if (starts("<unused") && ends(">")) return true;
  return false;
}

std::optional<int32_t> read_id(const GGUFFile& f, const char* key) {
  const GGUFValue* v = f.find(key);
  if (!v) return std::nullopt;
  try {
    const uint64_t id = v->as_u64();
    if (id >= static_cast<uint64_t>(tok::kMaxVocab)) {
      throw Error("token id " + std::to_string(id) + " out of range", f.path() + ": key '" + key + "'",
                  "the tokenizer metadata is corrupt");
    }
    return static_cast<int32_t>(id);
  } catch (const Error& e) {
    // llama.cpp writes -1 (as i32) for "none" in some converters; treat a negative id as absent.
    if (v->is_integer() && v->as_i64() < 0) return std::nullopt;
    throw;
  }
}

}  // namespace

Tokenizer Tokenizer::from_gguf(const GGUFFile& f) {
  const std::string& name = f.path();
  tok::VocabSpec spec;
  spec.source = name;

  const std::string model = f.get_string_or(kModel, "");
  if (model != "gpt2") {
    throw Error("tokenizer model '" + model + "' is not supported", name + ": key '" + kModel + "'",
                "paw supports byte-level BPE vocabularies (tokenizer.ggml.model = \"gpt2\")");
  }
  const std::string pre = f.get_string_or(kPre, "default");
  if (pre == "qwen2") {
    spec.pre = PreTokenizer::Qwen2;
    spec.nfc = true;  // Qwen's tokenizer.json normalises to NFC; GGUF keeps no normaliser key
  } else if (pre == "gpt-2" || pre == "gpt2" || pre == "default") {
    spec.pre = PreTokenizer::Gpt2;
  } else {
    throw Error("pre-tokenizer '" + pre + "' is not supported", name + ": key '" + kPre + "'",
                "supported: qwen2, gpt-2, default");
  }

  std::vector<std::string> tokens = f.get(kTokens).as_string_array();
  if (static_cast<int64_t>(tokens.size()) > tok::kMaxVocab) {
    throw Error("too many tokens (" + std::to_string(tokens.size()) + ")", name + ": key '" + kTokens + "'");
  }
  const size_t n = tokens.size();

  std::vector<TokenType> types(n, TokenType::Normal);
  if (const GGUFValue* tv = f.find(kTypes)) {
    const std::vector<int64_t> raw = tv->as_int_array();
    if (raw.size() != n) {
      throw Error("token_type has " + std::to_string(raw.size()) + " entries for " + std::to_string(n) + " tokens",
                  name + ": key '" + kTypes + "'", "the tokenizer metadata is corrupt");
    }
    for (size_t i = 0; i < n; ++i) {
      if (raw[i] < 0 || raw[i] > 6) {
        throw Error("token " + std::to_string(i) + " has unknown type " + std::to_string(raw[i]),
                    name + ": key '" + kTypes + "'", "expected a llama_token_type value 0..6");
      }
      types[i] = raw[i] == 0 ? TokenType::Normal : static_cast<TokenType>(raw[i]);
    }
  }

  // The last id of each text (what the text -> id map will hold).
  std::unordered_map<std::string, int32_t> last_id;
  last_id.reserve(n);
  for (size_t i = 0; i < n; ++i) last_id[tokens[i]] = static_cast<int32_t>(i);
  for (size_t i = 0; i < n; ++i) {
    const TokenType ty = types[i];
    if (ty != TokenType::Control && ty != TokenType::Unknown && ty != TokenType::UserDefined) continue;
    // Empty or repeated texts cannot be matched in text; they keep their id for decoding.
    if (tokens[i].empty() || last_id[tokens[i]] != static_cast<int32_t>(i)) continue;
    tok::AddedToken a;
    a.id = static_cast<int32_t>(i);
    a.content = tokens[i];
    a.special = ty != TokenType::UserDefined;
    a.normalized = false;  // llama.cpp matches these in the raw text
    spec.added.push_back(std::move(a));
  }
  spec.vocab.reserve(n);
  for (size_t i = 0; i < n; ++i) spec.vocab.emplace_back(std::move(tokens[i]), static_cast<int32_t>(i));
  spec.types = std::move(types);

  if (const GGUFValue* mv = f.find(kMerges)) {
    const std::vector<std::string> merges = mv->as_string_array();
    spec.merges.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
      const std::string& m = merges[i];
      const size_t sp = m.find(' ', 1);
      if (sp == std::string::npos) {
        throw Error("merge " + std::to_string(i) + " is not \"left right\"", name + ": key '" + kMerges + "'",
                    "the tokenizer metadata is corrupt");
      }
      spec.merges.emplace_back(m.substr(0, sp), m.substr(sp + 1));
    }
  }
  spec.bos = read_id(f, kBos);
  spec.eos = read_id(f, kEos);
  spec.eot = read_id(f, kEot);
  spec.pad = read_id(f, kPad);
  if (const GGUFValue* ab = f.find(kAddBos)) spec.add_bos = ab->as_bool();

  Tokenizer t;
  tok::build_impl(std::move(spec), *t.impl_);
  return t;
}

void Tokenizer::write_gguf_metadata(GGUFWriter& w) const { write_gguf_metadata(w, n_vocab()); }

void Tokenizer::write_gguf_metadata(GGUFWriter& w, int32_t n_rows) const {
  const tok::TokenizerImpl& t = *impl_;
  const std::string where = t.source + " -> GGUF";
  if ((t.pre == PreTokenizer::Qwen2) != t.nfc) {
    throw Error("this normaliser / pre-tokenizer combination has no GGUF spelling", where,
                "GGUF 'qwen2' implies NFC and 'gpt-2' implies no normaliser");
  }
  if (t.ignore_merges || t.unk_id >= 0) {
    throw Error("ignore_merges / unk_token cannot be written as GGUF tokenizer metadata", where,
                "use the tokenizer.json with this model");
  }
  if (n_rows < n_vocab()) {
    throw Error("cannot pad " + std::to_string(n_vocab()) + " tokens down to " + std::to_string(n_rows) + " rows", where);
  }

  const auto n = static_cast<size_t>(n_rows);
  std::vector<std::string> tokens(n);
  std::vector<int32_t> types(n);
  for (size_t i = 0; i < n; ++i) {
    const bool in_vocab = i < t.tokens.size();
    TokenType ty = in_vocab ? t.types[i] : TokenType::Unused;
    if (ty == TokenType::UserDefined && looks_special(t.tokens[i])) ty = TokenType::Control;
    // Gaps get a unique placeholder text, like the convert script's "[PAD<id>]".
    if (!in_vocab || (ty == TokenType::Unused && t.tokens[i].empty())) {
      tokens[i] = "[PAD" + std::to_string(i) + "]";
    } else {
      tokens[i] = t.tokens[i];
    }
    types[i] = static_cast<int32_t>(ty);
  }
  std::vector<std::string> merges;
  merges.reserve(t.merges.size());
  for (const auto& [l, r] : t.merges) merges.push_back(t.tokens[l] + " " + t.tokens[r]);

  w.set(kModel, GGUFValue::string("gpt2"));
  w.set(kPre, GGUFValue::string(t.pre == PreTokenizer::Qwen2 ? "qwen2" : "gpt-2"));
  w.set(kTokens, GGUFValue::string_array(tokens));
  w.set(kTypes, GGUFValue::i32_array(types));
  w.set(kMerges, GGUFValue::string_array(merges));
  if (t.bos) w.set(kBos, GGUFValue::u32(static_cast<uint32_t>(*t.bos)));
  if (t.eos) w.set(kEos, GGUFValue::u32(static_cast<uint32_t>(*t.eos)));
  if (t.eot) w.set(kEot, GGUFValue::u32(static_cast<uint32_t>(*t.eot)));
  if (t.pad) w.set(kPad, GGUFValue::u32(static_cast<uint32_t>(*t.pad)));
  w.set(kAddBos, GGUFValue::boolean(t.add_bos));
}

}  // namespace paw
