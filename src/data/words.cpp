#include "data/words.hpp"

#include <fstream>
#include <map>
#include <mutex>

#include "data/noise.hpp"
#include "paw/util/error.hpp"

namespace paw::data {
namespace {

constexpr size_t kMinLen = 3;
constexpr size_t kMaxLen = 9;
constexpr size_t kMinWords = 2000;  // far below wamerican's ~60k; guards against a wrong file

bool usable(const std::string& w) {
  if (w.size() < kMinLen || w.size() > kMaxLen) return false;
  for (char c : w) {
    if (c < 'a' || c > 'z') return false;
  }
  return true;
}

}  // namespace

std::shared_ptr<const Words> Words::load(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const Words>> cache;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(path); it != cache.end()) return it->second;

  std::ifstream in(path);
  if (!in) {
    throw Error("cannot open the English word list", "file '" + path + "'",
                "install Debian's wamerican package (apt-get install wamerican) or point --words / "
                "GenOptions::words_path at a one-word-per-line list");
  }
  const std::set<std::string> fillers = word_set(noise_filler_texts());
  std::vector<std::string> words;
  std::set<std::string> seen;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!usable(line) || fillers.count(line) || is_blocked_word(line) || !seen.insert(line).second) continue;
    words.push_back(line);
  }
  if (words.size() < kMinWords) {
    throw Error("the word list has only " + std::to_string(words.size()) + " usable words (lowercase a-z, " +
                    std::to_string(kMinLen) + ".." + std::to_string(kMaxLen) + " letters)",
                "file '" + path + "'", "use Debian's /usr/share/dict/words from package wamerican");
  }
  auto w = std::make_shared<const Words>(std::move(words));
  cache.emplace(path, w);
  return w;
}

const std::string& Words::pick(Rng& r, const std::set<std::string>& avoid) const {
  for (;;) {
    const std::string& w = words_[r.below(words_.size())];
    if (!avoid.count(w)) return w;
  }
}

std::vector<std::string> Words::pick_distinct(Rng& r, size_t k, const std::set<std::string>& avoid) const {
  return pick_distinct_min_len(r, k, 0, avoid);
}

std::vector<std::string> Words::pick_distinct_min_len(Rng& r, size_t k, size_t min_len,
                                                      const std::set<std::string>& avoid) const {
  std::vector<std::string> out;
  std::set<std::string> used;
  while (out.size() < k) {
    const std::string& w = words_[r.below(words_.size())];
    if (w.size() < min_len || avoid.count(w) || !used.insert(w).second) continue;
    out.push_back(w);
  }
  return out;
}

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      cur.push_back(static_cast<char>(c | 0x20));
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::set<std::string> word_set(const std::vector<std::string>& texts) {
  std::set<std::string> out;
  for (const auto& t : texts) {
    for (auto& w : words_of(t)) out.insert(std::move(w));
  }
  return out;
}

}  // namespace paw::data
