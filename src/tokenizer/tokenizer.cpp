// Tokenizer: encode (added tokens -> NFC -> pre-tokenize -> BPE) and decode.
#include "paw/tokenizer/tokenizer.hpp"

#include "paw/util/error.hpp"
#include "tokenizer/byte_level.hpp"
#include "tokenizer/pretokenize.hpp"
#include "tokenizer/tokenizer_impl.hpp"
#include "tokenizer/unicode.hpp"

namespace paw {

Tokenizer::Tokenizer() : impl_(std::make_unique<Impl>()) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

namespace {

const tok::TokenizerImpl& checked(const tok::TokenizerImpl* impl) {
  if (!impl) throw Error("use of a moved-from Tokenizer", "paw::Tokenizer", "keep the tokenizer you moved into");
  return *impl;
}

bool is_special_type(TokenType t) { return t == TokenType::Control || t == TokenType::Unknown; }

// Bytes of one token for decoding, with Hugging Face's ByteLevel decoder rule: a token whose
// characters all belong to the byte-level alphabet stands for those bytes; any other token
// (e.g. an added token with a space or non-Latin text) stands for its own UTF-8.
std::string bytes_of(const tok::TokenizerImpl& t, int32_t id) {
  if (t.types[id] == TokenType::Unused) return {};
  const std::string& text = t.tokens[id];
  if (auto raw = tok::from_byte_level(text)) return *raw;
  return text;
}

void encode_plain(const tok::TokenizerImpl& t, std::string_view text, std::vector<int32_t>& out) {
  thread_local std::vector<tok::Piece> pieces;
  pieces.clear();
  tok::pretokenize(t.pre, text, pieces);
  for (const tok::Piece& p : pieces) t.bpe.encode_word(text.substr(p.begin, p.end - p.begin), out);
}

}  // namespace

std::vector<int32_t> Tokenizer::encode(std::string_view text, const EncodeOptions& opt) const {
  const tok::TokenizerImpl& t = checked(impl_.get());
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  if (opt.add_bos && t.bos) out.push_back(*t.bos);

  // 1. Added tokens with normalized=false, found in the raw text.
  std::vector<tok::Segment> segs;
  t.raw_matcher.split(text, t.added, opt.parse_special, segs);
  std::vector<tok::Segment> sub;
  for (const tok::Segment& s : segs) {
    if (s.token >= 0) {
      out.push_back(t.added[s.token].id);
      continue;
    }
    // 2. NFC (qwen2 only), then added tokens with normalized=true in the normalised text.
    std::string_view piece = text.substr(s.begin, s.end - s.begin);
    std::string normalized;
    if (t.nfc && !tok::is_trivially_nfc(piece)) {
      normalized = tok::nfc(piece);
      piece = normalized;
    }
    if (t.normalized_matcher.empty()) {
      encode_plain(t, piece, out);
      continue;
    }
    sub.clear();
    t.normalized_matcher.split(piece, t.added, opt.parse_special, sub);
    for (const tok::Segment& s2 : sub) {
      if (s2.token >= 0) {
        out.push_back(t.added[s2.token].id);
      } else {
        encode_plain(t, piece.substr(s2.begin, s2.end - s2.begin), out);
      }
    }
  }
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, const DecodeOptions& opt) const {
  const tok::TokenizerImpl& t = checked(impl_.get());
  std::string bytes;
  for (int32_t id : ids) {
    // Ids outside the vocabulary (e.g. padding rows of the embedding) decode to nothing, as
    // in Hugging Face's decode.
    if (id < 0 || static_cast<size_t>(id) >= t.tokens.size()) continue;
    if (opt.skip_special && is_special_type(t.types[id])) continue;
    bytes += bytes_of(t, id);
  }
  return tok::utf8_lossy(bytes);
}

std::string Tokenizer::token_bytes(int32_t id) const {
  const tok::TokenizerImpl& t = checked(impl_.get());
  if (id < 0 || static_cast<size_t>(id) >= t.tokens.size()) {
    throw Error("token id " + std::to_string(id) + " is outside the vocabulary (" + std::to_string(t.tokens.size()) +
                    " tokens)",
                t.source);
  }
  return bytes_of(t, id);
}

int32_t Tokenizer::n_vocab() const { return static_cast<int32_t>(checked(impl_.get()).tokens.size()); }

const std::string& Tokenizer::token_text(int32_t id) const {
  const tok::TokenizerImpl& t = checked(impl_.get());
  if (id < 0 || static_cast<size_t>(id) >= t.tokens.size()) {
    throw Error("token id " + std::to_string(id) + " is outside the vocabulary (" + std::to_string(t.tokens.size()) +
                    " tokens)",
                t.source);
  }
  return t.tokens[id];
}

std::optional<int32_t> Tokenizer::token_id(std::string_view text) const {
  const tok::TokenizerImpl& t = checked(impl_.get());
  const std::string key(text);
  if (auto it = t.added_ids.find(key); it != t.added_ids.end()) return it->second;
  if (auto it = t.model_ids.find(key); it != t.model_ids.end()) return it->second;
  return std::nullopt;
}

TokenType Tokenizer::token_type(int32_t id) const {
  const tok::TokenizerImpl& t = checked(impl_.get());
  if (id < 0 || static_cast<size_t>(id) >= t.types.size()) return TokenType::Undefined;
  return t.types[id];
}

PreTokenizer Tokenizer::pre_tokenizer() const { return checked(impl_.get()).pre; }
std::optional<int32_t> Tokenizer::bos_id() const { return checked(impl_.get()).bos; }
std::optional<int32_t> Tokenizer::eos_id() const { return checked(impl_.get()).eos; }
std::optional<int32_t> Tokenizer::eot_id() const { return checked(impl_.get()).eot; }
std::optional<int32_t> Tokenizer::pad_id() const { return checked(impl_.get()).pad; }
bool Tokenizer::add_bos_default() const { return checked(impl_.get()).add_bos; }

}  // namespace paw
