#include "tokenizer/bpe.hpp"

#include <algorithm>

#include "tokenizer/byte_level.hpp"

namespace paw::tok {

void MergeTable::reserve(size_t n) {
  size_t cap = 16;
  while (cap < n * 2) cap *= 2;  // load factor <= 0.5 keeps probes short
  if (cap <= slots_.size()) return;
  std::vector<Entry> old = std::move(slots_);
  slots_.assign(cap, Entry{});
  mask_ = cap - 1;
  size_ = 0;
  for (const Entry& e : old) {
    if (e.key != kEmpty) insert(static_cast<int32_t>(e.key >> 32), static_cast<int32_t>(e.key & 0xFFFFFFFFu), e.rank, e.merged);
  }
}

void MergeTable::grow() { reserve(std::max<size_t>(16, size_ + 1)); }

void MergeTable::insert(int32_t left, int32_t right, int32_t rank, int32_t merged) {
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const uint64_t key = pack(left, right);
  for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
    Entry& e = slots_[i];
    if (e.key == key) {
      e.rank = rank;
      e.merged = merged;
      return;
    }
    if (e.key == kEmpty) {
      e = Entry{key, rank, merged};
      ++size_;
      return;
    }
  }
}

void Bpe::init(BpeConfig cfg, MergeTable merges) {
  cfg_ = cfg;
  merges_ = std::move(merges);
  std::lock_guard<std::mutex> lock(cache_mu_);
  cache_.clear();
}

namespace {

struct Sym {
  int32_t id;    // -1 once merged into its left neighbour
  int32_t prev;  // index of the previous live symbol, -1 at the start
  int32_t next;  // index of the next live symbol, -1 at the end
};

struct Candidate {
  int32_t rank;
  int32_t pos;  // index of the left symbol; lower wins ties (leftmost first)
  int32_t left;
  int32_t right;
  int32_t merged;
  // std heaps are max-heaps: "less" means lower priority.
  bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};

}  // namespace

void Bpe::encode_word_uncached(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (cfg_.whole_word_vocab) {
    auto it = cfg_.whole_word_vocab->find(to_byte_level(word));
    if (it != cfg_.whole_word_vocab->end()) {
      out.push_back(it->second);
      return;
    }
  }

  thread_local std::vector<Sym> syms;
  thread_local std::vector<Candidate> heap;
  syms.clear();
  heap.clear();

  bool prev_unk = false;
  for (unsigned char b : word) {
    int32_t id = cfg_.byte_ids[b];
    if (id < 0) {
      if (cfg_.unk_id < 0) continue;  // no unknown token: the byte is dropped (HF behaviour)
      if (cfg_.fuse_unk && prev_unk) continue;
      id = cfg_.unk_id;
      prev_unk = true;
    } else {
      prev_unk = false;
    }
    const auto idx = static_cast<int32_t>(syms.size());
    syms.push_back({id, idx - 1, -1});
    if (idx > 0) syms[idx - 1].next = idx;
  }
  if (syms.empty()) return;

  auto consider = [&](int32_t pos) {
    if (pos < 0) return;
    const int32_t nxt = syms[pos].next;
    if (nxt < 0) return;
    if (const MergeTable::Entry* e = merges_.find(syms[pos].id, syms[nxt].id)) {
      heap.push_back({e->rank, pos, syms[pos].id, syms[nxt].id, e->merged});
      std::push_heap(heap.begin(), heap.end());
    }
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(syms.size()); ++i) consider(i);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end());
    const Candidate c = heap.back();
    heap.pop_back();
    // Stale entries: a symbol's id only ever grows into a longer token, so matching ids mean
    // the pair is still current.
    Sym& l = syms[c.pos];
    if (l.id != c.left || l.next < 0) continue;
    Sym& r = syms[l.next];
    if (r.id != c.right) continue;
    l.id = c.merged;
    r.id = -1;
    l.next = r.next;
    if (r.next >= 0) syms[r.next].prev = c.pos;
    consider(l.prev);
    consider(c.pos);
  }
  for (int32_t i = 0; i >= 0; i = syms[i].next) out.push_back(syms[i].id);
}

void Bpe::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.size() > kMaxCachedWordBytes) {
    encode_word_uncached(word, out);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = cache_.find(word);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t first = out.size();
  encode_word_uncached(word, out);
  std::vector<int32_t> ids(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (cache_.size() >= kMaxCacheEntries) cache_.clear();  // bounded memory; rebuilt as text flows
  cache_.emplace(std::string(word), std::move(ids));
}

}  // namespace paw::tok
