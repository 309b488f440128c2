// Loader for Hugging Face tokenizer.json (+ tokenizer_config.json).
// Accepted: model BPE (byte-level vocabularies); normalizer null / NFC / Sequence of NFC;
// pre_tokenizer ByteLevel(use_regex) = gpt2, or Sequence[Split(qwen2 or gpt2 regex,
// Isolated), ByteLevel(use_regex=false)]. Anything else is refused with a clear error rather
// than tokenized differently from Hugging Face.
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "paw/tokenizer/tokenizer.hpp"
#include "paw/util/error.hpp"
#include "tokenizer/hf_json_sax.hpp"
#include "tokenizer/json_util.hpp"
#include "tokenizer/tokenizer_impl.hpp"

namespace paw {
namespace {

using nlohmann::json;
using tok::VocabSpec;

// The two pre-tokenizer regexes we implement (DESIGN.md §8), exactly as tokenizer.json spells them.
constexpr std::string_view kQwen2Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
    "\\s+(?!\\S)|\\s+";
constexpr std::string_view kGpt2Regex =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

struct Ctx {
  const std::string& name;
  [[noreturn]] void fail(const std::string& field, const std::string& what, const std::string& hint = {}) const {
    throw Error(what, name + ": field '" + field + "'",
                hint.empty() ? "only byte-level BPE tokenizers (GPT-2, Qwen2/Qwen3 style) are supported" : hint);
  }
};

std::string type_of(const Ctx& c, const json& j, const std::string& field) {
  if (!j.is_object()) c.fail(field, "expected an object");
  auto it = j.find("type");
  if (it == j.end() || !it->is_string()) c.fail(field + ".type", "missing or not a string");
  return it->get<std::string>();
}

bool get_bool(const Ctx& c, const json& j, const char* key, bool def, const std::string& field) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  if (!it->is_boolean()) c.fail(field + "." + key, "expected true or false");
  return it->get<bool>();
}

void parse_normalizer(const Ctx& c, const json& n, VocabSpec& spec, const std::string& field) {
  if (n.is_null()) return;
  const std::string type = type_of(c, n, field);
  if (type == "NFC") {
    spec.nfc = true;
  } else if (type == "Sequence") {
    auto it = n.find("normalizers");
    if (it == n.end() || !it->is_array()) c.fail(field + ".normalizers", "expected an array");
    for (size_t i = 0; i < it->size(); ++i) parse_normalizer(c, (*it)[i], spec, field + ".normalizers[" + std::to_string(i) + "]");
  } else {
    c.fail(field, "unsupported normalizer '" + type + "'", "supported normalizers: none, NFC");
  }
}

void check_byte_level(const Ctx& c, const json& b, bool want_regex, const std::string& field) {
  if (get_bool(c, b, "add_prefix_space", false, field)) {
    c.fail(field + ".add_prefix_space", "ByteLevel add_prefix_space=true is not supported");
  }
  if (get_bool(c, b, "use_regex", true, field) != want_regex) {
    c.fail(field + ".use_regex", want_regex ? "a lone ByteLevel pre-tokenizer must split with its regex (use_regex=true)"
                                            : "ByteLevel after Split must not split again (use_regex=false)");
  }
}

void parse_pre_tokenizer(const Ctx& c, const json& p, VocabSpec& spec) {
  const std::string field = "pre_tokenizer";
  if (p.is_null()) c.fail(field, "missing pre-tokenizer");
  const std::string type = type_of(c, p, field);
  if (type == "ByteLevel") {
    check_byte_level(c, p, true, field);
    spec.pre = PreTokenizer::Gpt2;
    return;
  }
  if (type != "Sequence") c.fail(field, "unsupported pre-tokenizer '" + type + "'");
  auto it = p.find("pretokenizers");
  if (it == p.end() || !it->is_array() || it->size() != 2) {
    c.fail(field + ".pretokenizers", "expected [Split, ByteLevel]");
  }
  const json& split = (*it)[0];
  const json& bl = (*it)[1];
  if (type_of(c, split, field + ".pretokenizers[0]") != "Split") c.fail(field + ".pretokenizers[0]", "expected Split");
  if (type_of(c, bl, field + ".pretokenizers[1]") != "ByteLevel") c.fail(field + ".pretokenizers[1]", "expected ByteLevel");
  check_byte_level(c, bl, false, field + ".pretokenizers[1]");
  const std::string sf = field + ".pretokenizers[0]";
  auto pat = split.find("pattern");
  if (pat == split.end() || !pat->is_object() || !pat->contains("Regex") || !(*pat)["Regex"].is_string()) {
    c.fail(sf + ".pattern", "expected {\"Regex\": ...}");
  }
  const std::string regex = (*pat)["Regex"].get<std::string>();
  auto beh = split.find("behavior");
  if (beh == split.end() || !beh->is_string() || beh->get<std::string>() != "Isolated") {
    c.fail(sf + ".behavior", "only behavior \"Isolated\" is supported");
  }
  if (get_bool(c, split, "invert", false, sf)) c.fail(sf + ".invert", "invert=true is not supported");
  if (regex == kQwen2Regex) {
    spec.pre = PreTokenizer::Qwen2;
  } else if (regex == kGpt2Regex) {
    spec.pre = PreTokenizer::Gpt2;
  } else {
    c.fail(sf + ".pattern.Regex", "unsupported pre-tokenizer regex",
           "paw implements the qwen2 and gpt2 regexes exactly (DESIGN.md section 8)");
  }
}

int32_t get_id(const Ctx& c, const json& v, const std::string& field) {
  if (!v.is_number_integer()) c.fail(field, "token id is not an integer");
  const int64_t id = v.get<int64_t>();
  if (id < 0 || id >= tok::kMaxVocab) c.fail(field, "token id " + std::to_string(id) + " out of range");
  return static_cast<int32_t>(id);
}

void parse_model(const Ctx& c, const json& m, tok::HfJsonParts& parts, VocabSpec& spec) {
  if (!m.is_object()) c.fail("model", "expected an object");
  if (auto t = m.find("type"); t != m.end() && !(t->is_string() && t->get<std::string>() == "BPE")) {
    c.fail("model.type", "only BPE models are supported");
  }
  if (auto d = m.find("dropout"); d != m.end() && !d->is_null() && !(d->is_number() && d->get<double>() == 0.0)) {
    c.fail("model.dropout", "BPE dropout is not supported");
  }
  if (get_bool(c, m, "byte_fallback", false, "model")) c.fail("model.byte_fallback", "byte_fallback is not supported");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    auto it = m.find(key);
    if (it != m.end() && !it->is_null() && !(it->is_string() && it->get<std::string>().empty())) {
      c.fail(std::string("model.") + key, "subword prefixes/suffixes are not supported");
    }
  }
  spec.ignore_merges = get_bool(c, m, "ignore_merges", false, "model");
  spec.fuse_unk = get_bool(c, m, "fuse_unk", false, "model");
  if (auto u = m.find("unk_token"); u != m.end() && !u->is_null()) {
    if (!u->is_string()) c.fail("model.unk_token", "expected a string or null");
    spec.unk_token = u->get<std::string>();
  }

  if (!parts.has_vocab) c.fail("model.vocab", m.contains("vocab") ? "expected an object of token -> id" : "missing");
  if (!parts.has_merges) c.fail("model.merges", m.contains("merges") ? "expected an array" : "missing");
  spec.vocab.reserve(parts.vocab.size());
  for (auto& [text, id] : parts.vocab) {
    if (id < 0 || id >= tok::kMaxVocab) {
      c.fail("model.vocab[\"" + text.substr(0, 32) + "\"]", "token id " + std::to_string(id) + " out of range");
    }
    spec.vocab.emplace_back(std::move(text), static_cast<int32_t>(id));
  }
  spec.merges = std::move(parts.merges);
}

void parse_added(const Ctx& c, const json& a, VocabSpec& spec) {
  if (a.is_null()) return;
  if (!a.is_array()) c.fail("added_tokens", "expected an array");
  for (size_t i = 0; i < a.size(); ++i) {
    const json& e = a[i];
    const std::string field = "added_tokens[" + std::to_string(i) + "]";
    if (!e.is_object()) c.fail(field, "expected an object");
    tok::AddedToken t;
    auto id = e.find("id");
    if (id == e.end()) c.fail(field + ".id", "missing");
    t.id = get_id(c, *id, field + ".id");
    auto content = e.find("content");
    if (content == e.end() || !content->is_string()) c.fail(field + ".content", "missing or not a string");
    t.content = content->get<std::string>();
    t.special = get_bool(c, e, "special", false, field);
    t.single_word = get_bool(c, e, "single_word", false, field);
    t.lstrip = get_bool(c, e, "lstrip", false, field);
    t.rstrip = get_bool(c, e, "rstrip", false, field);
    t.normalized = get_bool(c, e, "normalized", !t.special, field);
    spec.added.push_back(std::move(t));
  }
}

// tokenizer_config.json: bos/eos/pad/unk as a string, null or {"content": ...}; add_bos_token.
std::optional<std::string> config_token(const Ctx& c, const json& cfg, const char* key) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    return (*it)["content"].get<std::string>();
  }
  c.fail(key, "expected a token string, null or {\"content\": ...}");
}

}  // namespace

Tokenizer Tokenizer::from_hf_json_text(std::string_view tokenizer_json, std::string_view tokenizer_config,
                                       const std::string& name) {
  const Ctx c{name};
  VocabSpec spec;
  spec.source = name;
  tok::HfJsonParts parts = tok::parse_tokenizer_json(tokenizer_json, name);
  const json& root = parts.rest;
  if (!root.is_object()) c.fail("(root)", "expected a JSON object");
  try {
    if (auto it = root.find("model"); it != root.end()) {
      parse_model(c, *it, parts, spec);
    } else {
      c.fail("model", "missing");
    }
    parse_normalizer(c, root.value("normalizer", json()), spec, "normalizer");
    parse_pre_tokenizer(c, root.value("pre_tokenizer", json()), spec);
    parse_added(c, root.value("added_tokens", json()), spec);
  } catch (const json::exception& e) {
    throw Error(std::string("unexpected JSON structure: ") + e.what(), name, "is this a Hugging Face tokenizer.json?");
  }

  Tokenizer t;
  tok::build_impl(std::move(spec), *t.impl_);

  if (!tokenizer_config.empty()) {
    const std::string cfg_name = name + " (tokenizer_config.json)";
    const Ctx cc{cfg_name};
    json cfg = tok::parse_json(tokenizer_config, cfg_name);
    if (!cfg.is_object()) cc.fail("(root)", "expected a JSON object");
    auto resolve = [&](const char* key) -> std::optional<int32_t> {
      auto text = config_token(cc, cfg, key);
      if (!text) return std::nullopt;
      auto id = t.token_id(*text);
      if (!id) cc.fail(key, "token '" + text->substr(0, 64) + "' is not in the vocabulary", "config and tokenizer.json do not match");
      return id;
    };
    t.impl_->bos = resolve("bos_token");
    t.impl_->eos = resolve("eos_token");
    t.impl_->pad = resolve("pad_token");
    t.impl_->add_bos = get_bool(cc, cfg, "add_bos_token", false, "(root)");
  }
  return t;
}

Tokenizer Tokenizer::from_hf_json(const std::string& tokenizer_json_path, const std::string& tokenizer_config_path) {
  const std::string json_text = tok::read_text_file(tokenizer_json_path);
  const std::string cfg_text = tokenizer_config_path.empty() ? std::string() : tok::read_text_file(tokenizer_config_path);
  return from_hf_json_text(json_text, cfg_text, tokenizer_json_path);
}

}  // namespace paw
