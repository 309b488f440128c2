// build_impl: turns what a loader read (VocabSpec) into the encoder's lookup structures,
// rejecting inconsistent vocabularies with a paw::Error that names the file.
#include <algorithm>

#include "paw/util/error.hpp"
#include "tokenizer/byte_level.hpp"
#include "tokenizer/tokenizer_impl.hpp"
#include "tokenizer/unicode.hpp"

namespace paw::tok {
namespace {

std::string quoted(std::string_view s) {
  std::string q = "'";
  for (char c : s.substr(0, 64)) q += c;
  if (s.size() > 64) q += "...";
  return q + "'";
}

}  // namespace

std::optional<int32_t> guess_eot(const TokenizerImpl& t) {
  static const char* const kEotTexts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                          "<EOT>", "_<EOT>", "<\uFF5Cend\u2581of\u2581sentence\uFF5C>"};
  for (const char* text : kEotTexts) {
    auto it = t.added_ids.find(text);
    if (it != t.added_ids.end()) return it->second;
  }
  return std::nullopt;
}

void build_impl(VocabSpec spec, TokenizerImpl& t) {
  const std::string& src = spec.source;
  t.source = spec.source;
  t.pre = spec.pre;
  t.nfc = spec.nfc;
  t.ignore_merges = spec.ignore_merges;
  t.fuse_unk = spec.fuse_unk;

  // Vocabulary size: one past the largest id. Ids must be dense enough that a hostile file
  // cannot make us allocate gigabytes for a handful of tokens.
  int64_t max_id = -1;
  auto check_id = [&](int64_t id, const std::string& what) {
    if (id < 0 || id >= kMaxVocab) {
      throw Error("token id " + std::to_string(id) + " of " + what + " is out of range [0, " +
                      std::to_string(kMaxVocab) + ")",
                  src, "the vocabulary is corrupt or not a BPE tokenizer");
    }
    max_id = std::max(max_id, id);
  };
  for (const auto& [text, id] : spec.vocab) check_id(id, "vocabulary entry " + quoted(text));
  for (const auto& a : spec.added) check_id(a.id, "added token " + quoted(a.content));
  const int64_t n_entries = static_cast<int64_t>(spec.vocab.size() + spec.added.size());
  if (max_id + 1 > 2 * n_entries + 1024) {
    throw Error("token ids are too sparse (largest id " + std::to_string(max_id) + " for " + std::to_string(n_entries) +
                    " entries)",
                src, "the vocabulary is corrupt");
  }
  const auto n = static_cast<size_t>(max_id + 1);
  t.tokens.assign(n, std::string());
  t.types.assign(n, TokenType::Unused);
  t.added_index.assign(n, -1);

  std::vector<bool> seen(n, false);
  t.model_ids.reserve(spec.vocab.size());
  for (auto& [text, id] : spec.vocab) {
    if (seen[id]) {
      throw Error("token id " + std::to_string(id) + " is used twice (again by " + quoted(text) + ")", src,
                  "the vocabulary is corrupt");
    }
    seen[id] = true;
    t.types[id] = TokenType::Normal;
    t.model_ids[text] = id;  // a repeated text keeps its last id (as HF's and llama.cpp's maps do)
    t.tokens[id] = std::move(text);
  }
  if (!spec.types.empty()) {
    if (spec.types.size() != n) {
      throw Error("token_type has " + std::to_string(spec.types.size()) + " entries for " + std::to_string(n) +
                      " tokens",
                  src, "the tokenizer metadata is inconsistent");
    }
    t.types = spec.types;
  }

  // Added tokens. Their text is the raw content (not byte-level), as in tokenizer.json and
  // as llama.cpp stores CONTROL / USER_DEFINED tokens.
  t.added = std::move(spec.added);
  for (size_t k = 0; k < t.added.size(); ++k) {
    AddedToken& a = t.added[k];
    if (a.content.empty()) {
      throw Error("added token " + std::to_string(a.id) + " has empty content", src, "the vocabulary is corrupt");
    }
    if (t.added_index[a.id] >= 0) {
      throw Error("added token id " + std::to_string(a.id) + " is used twice", src, "the vocabulary is corrupt");
    }
    auto in_model = t.model_ids.find(a.content);
    if (in_model != t.model_ids.end() && in_model->second != a.id) {
      throw Error("added token " + quoted(a.content) + " has id " + std::to_string(a.id) +
                      " but the model vocabulary has it at " + std::to_string(in_model->second),
                  src, "the vocabulary is corrupt");
    }
    if (seen[a.id] && t.tokens[a.id] != a.content) {
      throw Error("added token " + quoted(a.content) + " has id " + std::to_string(a.id) +
                      " which the model vocabulary gives to " + quoted(t.tokens[a.id]),
                  src, "the vocabulary is corrupt");
    }
    if (!t.added_ids.emplace(a.content, a.id).second) {
      throw Error("added token " + quoted(a.content) + " appears twice", src, "the vocabulary is corrupt");
    }
    t.added_index[a.id] = static_cast<int32_t>(k);
    t.tokens[a.id] = a.content;
    if (spec.types.empty()) t.types[a.id] = a.special ? TokenType::Control : TokenType::UserDefined;
  }

  // Merges, resolved to ids. Like HF's BPE builder, every part and every result must exist.
  MergeTable table;
  table.reserve(spec.merges.size());
  t.merges.reserve(spec.merges.size());
  for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const auto& [a, b] = spec.merges[rank];
    auto ia = t.model_ids.find(a);
    auto ib = t.model_ids.find(b);
    auto im = t.model_ids.find(a + b);
    if (ia == t.model_ids.end() || ib == t.model_ids.end() || im == t.model_ids.end()) {
      const std::string& missing = ia == t.model_ids.end() ? a : ib == t.model_ids.end() ? b : a + b;
      throw Error("merge " + std::to_string(rank) + " (" + quoted(a) + " + " + quoted(b) + "): token " +
                      quoted(missing) + " is not in the vocabulary",
                  src, "merges and vocabulary come from different tokenizers?");
    }
    table.insert(ia->second, ib->second, static_cast<int32_t>(rank), im->second);
    t.merges.emplace_back(ia->second, ib->second);
  }

  if (!spec.unk_token.empty()) {
    auto it = t.model_ids.find(spec.unk_token);
    if (it == t.model_ids.end()) {
      throw Error("unk_token " + quoted(spec.unk_token) + " is not in the vocabulary", src, "the vocabulary is corrupt");
    }
    t.unk_id = it->second;
  }

  BpeConfig cfg;
  const ByteLevel& bl = ByteLevel::get();
  for (int b = 0; b < 256; ++b) {
    auto it = t.model_ids.find(bl.byte_to_str[b]);
    cfg.byte_ids[b] = it != t.model_ids.end() ? it->second : -1;
  }
  cfg.unk_id = t.unk_id;
  cfg.fuse_unk = t.fuse_unk;
  cfg.whole_word_vocab = t.ignore_merges ? &t.model_ids : nullptr;
  t.bpe.init(cfg, std::move(table));

  // Matchers: normalized=false tokens in the raw text, normalized=true ones after NFC.
  std::vector<int32_t> raw_idx, norm_idx;
  std::vector<std::string> raw_pat, norm_pat;
  for (size_t k = 0; k < t.added.size(); ++k) {
    const AddedToken& a = t.added[k];
    if (a.normalized) {
      norm_idx.push_back(static_cast<int32_t>(k));
      norm_pat.push_back(t.nfc ? nfc(a.content) : a.content);
    } else {
      raw_idx.push_back(static_cast<int32_t>(k));
      raw_pat.push_back(a.content);
    }
  }
  t.raw_matcher.build(raw_idx, raw_pat);
  t.normalized_matcher.build(norm_idx, norm_pat);

  auto check_special = [&](const std::optional<int32_t>& id, const char* what) {
    if (id && (*id < 0 || static_cast<size_t>(*id) >= n)) {
      throw Error(std::string(what) + " id " + std::to_string(*id) + " is outside the vocabulary (" + std::to_string(n) +
                      " tokens)",
                  src, "the tokenizer metadata is inconsistent");
    }
  };
  check_special(spec.bos, "bos");
  check_special(spec.eos, "eos");
  check_special(spec.eot, "eot");
  check_special(spec.pad, "pad");
  t.bos = spec.bos;
  t.eos = spec.eos;
  t.pad = spec.pad;
  t.eot = spec.eot ? spec.eot : guess_eot(t);
  t.add_bos = spec.add_bos;
}

}  // namespace paw::tok
