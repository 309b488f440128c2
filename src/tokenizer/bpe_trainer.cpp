// Byte-level BPE trainer (include/paw/tokenizer/bpe_trainer.hpp): corpus -> pre-token counts ->
// merges with incremental pair-count updates -> GGUF / tokenizer.json.
#include "paw/tokenizer/bpe_trainer.hpp"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "paw/formats/gguf.hpp"
#include "paw/util/atomic_file.hpp"
#include "paw/util/error.hpp"
#include "tokenizer/byte_level.hpp"
#include "tokenizer/pretokenize.hpp"
#include "tokenizer/unicode.hpp"

namespace paw {
namespace {

constexpr int32_t kMaxVocab = 1 << 22;  // far above any real vocabulary

// The split regexes as tokenizer.json spells them (DESIGN.md §8).
constexpr std::string_view kQwen2Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
    "\\s+(?!\\S)|\\s+";
constexpr std::string_view kGpt2Regex =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

uint64_t pair_key(int32_t a, int32_t b) { return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b); }
int32_t key_left(uint64_t k) { return static_cast<int32_t>(k >> 32); }
int32_t key_right(uint64_t k) { return static_cast<int32_t>(k & 0xFFFFFFFFu); }

std::vector<std::string> specials_of(const BpeTrainOptions& o) {
  std::vector<std::string> s = o.control_tokens;
  s.insert(s.end(), o.user_tokens.begin(), o.user_tokens.end());
  return s;
}

// The BPE state during training.
class Merger {
  struct Entry {
    int64_t count;
    uint64_t key;
  };

 public:
  Merger(const std::unordered_map<std::string, uint64_t>& word_counts, int64_t min_frequency)
      : min_freq_(min_frequency) {
    // Byte tokens in GPT-2's order: by their byte-level code point (printable bytes first).
    const tok::ByteLevel& bl = tok::ByteLevel::get();
    std::vector<int> order(256);
    for (int b = 0; b < 256; ++b) order[b] = b;
    std::sort(order.begin(), order.end(), [&](int x, int y) { return bl.byte_to_cp[x] < bl.byte_to_cp[y]; });
    int32_t byte_id[256];
    for (int32_t id = 0; id < 256; ++id) {
      byte_id[order[id]] = id;
      bytes_.emplace_back(1, static_cast<char>(order[id]));
      ids_.emplace(bytes_.back(), id);
    }

    // Words in sorted order so every later step is independent of hash-map iteration order.
    std::vector<std::pair<std::string, uint64_t>> sorted(word_counts.begin(), word_counts.end());
    std::sort(sorted.begin(), sorted.end());
    syms_.reserve(sorted.size());
    counts_.reserve(sorted.size());
    for (const auto& [w, c] : sorted) {
      std::vector<int32_t> s;
      s.reserve(w.size());
      for (unsigned char ch : w) s.push_back(byte_id[ch]);
      const auto wi = static_cast<uint32_t>(syms_.size());
      for (size_t i = 0; i + 1 < s.size(); ++i) {
        const uint64_t k = pair_key(s[i], s[i + 1]);
        pair_count_[k] += static_cast<int64_t>(c);
        auto& occ = occ_[k];
        if (occ.empty() || occ.back() != wi) occ.push_back(wi);
      }
      syms_.push_back(std::move(s));
      counts_.push_back(static_cast<int64_t>(c));
    }
    seen_stamp_.assign(syms_.size(), 0);
    for (const auto& [k, c] : pair_count_) push(k, c);
  }

  // Performs merges until the vocabulary has `target` tokens or no pair is frequent enough.
  void run(int32_t target) {
    while (static_cast<int32_t>(bytes_.size()) < target && !heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), lower_priority());
      const Entry e = heap_.back();
      heap_.pop_back();
      const auto it = pair_count_.find(e.key);
      if (it == pair_count_.end() || it->second != e.count) continue;  // stale entry
      merge(e.key);
    }
  }

  const std::vector<std::string>& token_bytes() const { return bytes_; }
  const std::vector<std::pair<int32_t, int32_t>>& merges() const { return merges_; }

 private:
  // Heap order: higher count first; ties to the pair whose (left bytes, right bytes) sorts first.
  struct LowerPriority {
    const std::vector<std::string>* bytes;
    bool operator()(const Entry& x, const Entry& y) const {
      if (x.count != y.count) return x.count < y.count;
      const std::string& xl = (*bytes)[key_left(x.key)];
      const std::string& yl = (*bytes)[key_left(y.key)];
      if (xl != yl) return xl > yl;
      return (*bytes)[key_right(x.key)] > (*bytes)[key_right(y.key)];
    }
  };
  LowerPriority lower_priority() const { return LowerPriority{&bytes_}; }

  void push(uint64_t k, int64_t c) {
    if (c < min_freq_) return;
    heap_.push_back(Entry{c, k});
    std::push_heap(heap_.begin(), heap_.end(), lower_priority());
  }

  void merge(uint64_t key) {
    const int32_t a = key_left(key), b = key_right(key);
    std::string merged = bytes_[a] + bytes_[b];
    int32_t z;
    if (auto f = ids_.find(merged); f != ids_.end()) {
      z = f->second;  // the same bytes were already built from another pair
    } else {
      z = static_cast<int32_t>(bytes_.size());
      bytes_.push_back(merged);
      ids_.emplace(std::move(merged), z);
    }
    merges_.emplace_back(a, b);
    ++stamp_;

    std::vector<uint32_t> words = std::move(occ_[key]);
    occ_.erase(key);
    std::unordered_map<uint64_t, int64_t> delta;
    std::vector<int32_t> out;
    for (uint32_t w : words) {
      if (seen_stamp_[w] == stamp_) continue;
      seen_stamp_[w] = stamp_;
      const std::vector<int32_t>& old = syms_[w];
      out.clear();
      for (size_t i = 0; i < old.size();) {
        if (i + 1 < old.size() && old[i] == a && old[i + 1] == b) {
          out.push_back(z);
          i += 2;
        } else {
          out.push_back(old[i]);
          ++i;
        }
      }
      if (out.size() == old.size()) continue;  // the word no longer holds the pair
      const int64_t c = counts_[w];
      for (size_t i = 0; i + 1 < old.size(); ++i) delta[pair_key(old[i], old[i + 1])] -= c;
      for (size_t i = 0; i + 1 < out.size(); ++i) {
        const uint64_t k = pair_key(out[i], out[i + 1]);
        delta[k] += c;
        if (out[i] == z || out[i + 1] == z) {
          auto& occ = occ_[k];
          if (occ.empty() || occ.back() != w) occ.push_back(w);
        }
      }
      syms_[w] = out;
    }
    for (const auto& [k, d] : delta) {
      if (d == 0) continue;
      int64_t& c = pair_count_[k];
      c += d;
      if (c <= 0) {
        pair_count_.erase(k);
        if (k != key) occ_.erase(k);  // no word holds it any more
      } else {
        push(k, c);
      }
    }
  }

  int64_t min_freq_;
  std::vector<std::string> bytes_;                   // raw bytes of each token id
  std::unordered_map<std::string, int32_t> ids_;     // raw bytes -> id
  std::vector<std::vector<int32_t>> syms_;           // [n_words] current symbols of each word
  std::vector<int64_t> counts_;                      // [n_words]
  std::unordered_map<uint64_t, int64_t> pair_count_; // pair -> occurrences (weighted by word count)
  std::unordered_map<uint64_t, std::vector<uint32_t>> occ_;  // pair -> words that may hold it
  std::vector<Entry> heap_;
  std::vector<uint32_t> seen_stamp_;                 // [n_words] last merge that visited the word
  uint32_t stamp_ = 0;
  std::vector<std::pair<int32_t, int32_t>> merges_;
};

std::optional<int32_t> special_id(const BpeVocab& v, const std::string& text, const char* field) {
  if (text.empty()) return std::nullopt;
  for (int32_t i = v.n_bpe; i < static_cast<int32_t>(v.tokens.size()); ++i) {
    if (v.tokens[i] == text) return i;
  }
  throw Error("'" + text + "' is not one of the special tokens", std::string("BpeTrainOptions::") + field,
              "list it in control_tokens or user_tokens, or leave the field empty");
}

}  // namespace

BpeTrainer::BpeTrainer(BpeTrainOptions opt) : opt_(std::move(opt)) {}

void BpeTrainer::add_word(std::string_view bytes, uint64_t count) {
  if (bytes.empty() || count == 0) return;
  words_[std::string(bytes)] += count;
  total_words_ += count;
}

void BpeTrainer::add_text(std::string_view text) {
  const std::vector<std::string> specials = specials_of(opt_);
  std::vector<tok::Piece> pieces;
  auto add_segment = [&](std::string_view seg) {
    if (seg.empty()) return;
    std::string normalized;
    if (opt_.pre == PreTokenizer::Qwen2 && !tok::is_trivially_nfc(seg)) {
      normalized = tok::nfc(seg);  // the encoder normalises the same way before splitting
      seg = normalized;
    }
    pieces.clear();
    tok::pretokenize(opt_.pre, seg, pieces);
    for (const auto& p : pieces) add_word(seg.substr(p.begin, p.end - p.begin));
  };
  // Cut at the earliest (then longest) special-token text, as the encoder matches them.
  size_t pos = 0;
  while (pos < text.size()) {
    size_t best = std::string_view::npos, best_len = 0;
    for (const auto& s : specials) {
      if (s.empty()) continue;
      const size_t at = text.find(s, pos);
      if (at != std::string_view::npos && (at < best || (at == best && s.size() > best_len))) {
        best = at;
        best_len = s.size();
      }
    }
    if (best == std::string_view::npos) {
      add_segment(text.substr(pos));
      break;
    }
    add_segment(text.substr(pos, best - pos));
    pos = best + best_len;
  }
}

BpeVocab BpeTrainer::train() const {
  const std::string where = "BpeTrainOptions";
  if (opt_.vocab_size < 256 || opt_.vocab_size > kMaxVocab) {
    throw Error("vocab_size " + std::to_string(opt_.vocab_size) + " is out of range", where + "::vocab_size",
                "it counts the 256 byte tokens plus the merges: use 256.." + std::to_string(kMaxVocab));
  }
  if (opt_.min_frequency < 1) throw Error("min_frequency must be at least 1", where + "::min_frequency");
  const std::vector<std::string> specials = specials_of(opt_);
  std::set<std::string> distinct;
  for (const auto& s : specials) {
    if (s.empty() || !distinct.insert(s).second) {
      throw Error("special tokens must be non-empty and distinct ('" + s + "')", where, "check control_tokens / user_tokens");
    }
  }

  Merger m(words_, opt_.min_frequency);
  m.run(opt_.vocab_size);

  BpeVocab v;
  v.pre = opt_.pre;
  for (const auto& b : m.token_bytes()) {
    v.tokens.push_back(tok::to_byte_level(b));
    v.types.push_back(TokenType::Normal);
  }
  v.n_bpe = static_cast<int32_t>(v.tokens.size());
  for (const auto& s : opt_.control_tokens) {
    v.tokens.push_back(s);
    v.types.push_back(TokenType::Control);
  }
  for (const auto& s : opt_.user_tokens) {
    v.tokens.push_back(s);
    v.types.push_back(TokenType::UserDefined);
  }
  for (const auto& [a, b] : m.merges()) v.merges.emplace_back(v.tokens[a], v.tokens[b]);
  v.bos = special_id(v, opt_.bos, "bos");
  v.eos = special_id(v, opt_.eos, "eos");
  v.eot = special_id(v, opt_.eot, "eot");
  v.pad = special_id(v, opt_.pad, "pad");
  return v;
}

void BpeVocab::write_gguf_metadata(GGUFWriter& w) const {
  std::vector<int32_t> type_ids;
  for (TokenType t : types) type_ids.push_back(static_cast<int32_t>(t));
  std::vector<std::string> merge_texts;
  merge_texts.reserve(merges.size());
  for (const auto& [l, r] : merges) merge_texts.push_back(l + " " + r);
  w.set("tokenizer.ggml.model", GGUFValue::string("gpt2"));
  w.set("tokenizer.ggml.pre", GGUFValue::string(pre == PreTokenizer::Qwen2 ? "qwen2" : "gpt-2"));
  w.set("tokenizer.ggml.tokens", GGUFValue::string_array(tokens));
  w.set("tokenizer.ggml.token_type", GGUFValue::i32_array(type_ids));
  w.set("tokenizer.ggml.merges", GGUFValue::string_array(merge_texts));
  if (bos) w.set("tokenizer.ggml.bos_token_id", GGUFValue::u32(static_cast<uint32_t>(*bos)));
  if (eos) w.set("tokenizer.ggml.eos_token_id", GGUFValue::u32(static_cast<uint32_t>(*eos)));
  if (eot) w.set("tokenizer.ggml.eot_token_id", GGUFValue::u32(static_cast<uint32_t>(*eot)));
  if (pad) w.set("tokenizer.ggml.padding_token_id", GGUFValue::u32(static_cast<uint32_t>(*pad)));
  w.set("tokenizer.ggml.add_bos_token", GGUFValue::boolean(false));
}

std::vector<uint8_t> BpeVocab::gguf_bytes() const {
  GGUFWriter w;
  w.set("general.name", GGUFValue::string("paw byte-level BPE tokenizer"));
  write_gguf_metadata(w);
  return w.to_bytes();
}

void BpeVocab::write_gguf(const std::string& path) const {
  GGUFWriter w;
  w.set("general.name", GGUFValue::string("paw byte-level BPE tokenizer"));
  write_gguf_metadata(w);
  w.write(path);
}

std::string BpeVocab::hf_tokenizer_json() const {
  using ojson = nlohmann::ordered_json;
  const bool qwen = pre == PreTokenizer::Qwen2;
  ojson added = ojson::array();
  for (int32_t i = n_bpe; i < static_cast<int32_t>(tokens.size()); ++i) {
    added.push_back({{"id", i},
                     {"content", tokens[i]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", types[i] == TokenType::Control}});
  }
  const ojson byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
  ojson vocab = ojson::object();
  for (int32_t i = 0; i < n_bpe; ++i) vocab[tokens[i]] = i;
  ojson merge_list = ojson::array();
  for (const auto& [l, r] : merges) merge_list.push_back(ojson::array({l, r}));
  ojson j = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", qwen ? ojson{{"type", "NFC"}} : ojson(nullptr)},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         ojson::array({{{"type", "Split"},
                        {"pattern", {{"Regex", std::string(qwen ? kQwen2Regex : kGpt2Regex)}}},
                        {"behavior", "Isolated"},
                        {"invert", false}},
                       byte_level})}}},
      {"post_processor", byte_level},
      {"decoder", byte_level},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"continuing_subword_prefix", ""},
        {"end_of_word_suffix", ""},
        {"fuse_unk", false},
        {"byte_fallback", false},
        {"ignore_merges", false},
        {"vocab", vocab},
        {"merges", merge_list}}},
  };
  return j.dump(2, ' ', false, ojson::error_handler_t::strict);
}

std::string BpeVocab::hf_tokenizer_config_json() const {
  using ojson = nlohmann::ordered_json;
  auto text_or_null = [&](const std::optional<int32_t>& id) { return id ? ojson(tokens[*id]) : ojson(nullptr); };
  ojson j = {{"add_bos_token", false},
             {"bos_token", text_or_null(bos)},
             {"eos_token", text_or_null(eos)},
             {"pad_token", text_or_null(pad)},
             {"unk_token", nullptr},
             {"clean_up_tokenization_spaces", false},
             {"errors", "replace"},
             {"split_special_tokens", false},
             {"tokenizer_class", pre == PreTokenizer::Qwen2 ? "Qwen2Tokenizer" : "GPT2Tokenizer"}};
  return j.dump(2);
}

void BpeVocab::write_hf_dir(const std::string& dir) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error("cannot create directory: " + ec.message(), dir);
  atomic_write_file((std::filesystem::path(dir) / "tokenizer.json").string(), hf_tokenizer_json());
  atomic_write_file((std::filesystem::path(dir) / "tokenizer_config.json").string(), hf_tokenizer_config_json());
}

}  // namespace paw
