#pragma once
// Byte-level BPE over token ids. A word's raw bytes start as the ids of their byte-level
// characters; adjacent pairs are merged lowest merge rank first (leftmost on ties), as
// Hugging Face's BPE does, using a binary heap over a linked list of symbols.
// Results for short words are cached (thread-safe), which is what makes prose fast.
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace paw::tok {

// Open-addressing map (left id, right id) -> (rank, merged id). Faster than std::unordered_map
// on the hot path: one multiply, usually one probe.
class MergeTable {
 public:
  struct Entry {
    uint64_t key = kEmpty;
    int32_t rank = 0;
    int32_t merged = 0;
  };
  static constexpr uint64_t kEmpty = ~uint64_t{0};

  void reserve(size_t n);
  // Later insertions of the same pair overwrite earlier ones (HF keeps the last rank too).
  void insert(int32_t left, int32_t right, int32_t rank, int32_t merged);
  const Entry* find(int32_t left, int32_t right) const {
    if (slots_.empty()) return nullptr;
    const uint64_t key = pack(left, right);
    for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
      const Entry& e = slots_[i];
      if (e.key == key) return &e;
      if (e.key == kEmpty) return nullptr;
    }
  }
  size_t size() const { return size_; }

 private:
  static uint64_t pack(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  static size_t hash(uint64_t k) {
    k ^= k >> 31;
    k *= 0x9E3779B97F4A7C15ull;
    return static_cast<size_t>(k ^ (k >> 29));
  }
  void grow();
  std::vector<Entry> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

struct BpeConfig {
  std::array<int32_t, 256> byte_ids{};  // id of each byte's byte-level character, -1 if absent
  int32_t unk_id = -1;                  // id used for bytes without a token (-1: drop them, as HF does)
  bool fuse_unk = false;                // collapse consecutive unknowns into one
  // ignore_merges (Llama-3 style): a word that is itself a vocabulary token is emitted as is.
  // Needs the byte-level text -> id map.
  const std::unordered_map<std::string, int32_t>* whole_word_vocab = nullptr;
};

class Bpe {
 public:
  Bpe() = default;
  Bpe(const Bpe&) = delete;
  Bpe& operator=(const Bpe&) = delete;

  void init(BpeConfig cfg, MergeTable merges);

  // Appends the ids of one pre-tokenized word (raw bytes).
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;
  // The same without the cache (tests compare both paths).
  void encode_word_uncached(std::string_view word, std::vector<int32_t>& out) const;

  const MergeTable& merges() const { return merges_; }

 private:
  struct StrHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  static constexpr size_t kMaxCachedWordBytes = 64;
  static constexpr size_t kMaxCacheEntries = 1 << 17;

  BpeConfig cfg_;
  MergeTable merges_;
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, std::vector<int32_t>, StrHash, std::equal_to<>> cache_;
};

}  // namespace paw::tok
