// Opened programs under a memory budget (see program_pool.hpp).
#include "server/program_pool.hpp"

#include "paw/program/program_bundle.hpp"

namespace paw::server {

ProgramPool::ProgramPool(const Interpreter& interp, std::string cache_dir, size_t budget_bytes)
    : interp_(interp), cache_dir_(std::move(cache_dir)), budget_(budget_bytes) {}

size_t ProgramPool::estimate_bytes(const Program& p) const {
  // Adapter bytes as stored (the loaded form is the same size or smaller) plus the prefix KV
  // state: prefix tokens x the interpreter's KV bytes per token.
  const size_t adapter = p.bundle() ? p.bundle()->adapter_gguf->size() : 0;
  const size_t kv = static_cast<size_t>(p.prefix_tokens()) * static_cast<size_t>(interp_.kv_bytes_per_token());
  return adapter + kv;
}

std::shared_ptr<const Program> ProgramPool::get(const std::string& id) {
  std::shared_ptr<std::mutex> opener;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (auto it = entries_.find(id); it != entries_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.program;
    }
    auto& slot = opening_[id];
    if (!slot) slot = std::make_shared<std::mutex>();
    opener = slot;
  }
  // Open outside the pool lock (it may evaluate the prefix); one opener per id at a time.
  std::lock_guard<std::mutex> og(*opener);
  {
    std::lock_guard<std::mutex> g(mu_);
    if (auto it = entries_.find(id); it != entries_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.program;
    }
  }
  ProgramOptions po;
  po.cache_dir = cache_dir_;
  po.log = [](std::string_view, std::string_view) {};
  std::shared_ptr<const Program> prog;
  try {
    prog = std::make_shared<const Program>(Program::open(id, interp_, po));
  } catch (...) {
    std::lock_guard<std::mutex> g(mu_);
    opening_.erase(id);
    throw;
  }
  const size_t bytes = estimate_bytes(*prog);
  std::lock_guard<std::mutex> g(mu_);
  lru_.push_front(id);
  entries_[id] = Entry{prog, bytes, lru_.begin()};
  total_ += bytes;
  ++opens_;
  opening_.erase(id);
  evict_over_budget(id);
  return prog;
}

void ProgramPool::evict_over_budget(const std::string& keep) {
  while (total_ > budget_ && lru_.size() > 1) {
    const std::string victim = lru_.back();
    if (victim == keep) break;
    auto it = entries_.find(victim);
    total_ -= it->second.bytes;
    lru_.pop_back();
    entries_.erase(it);
  }
}

size_t ProgramPool::loaded() const {
  std::lock_guard<std::mutex> g(mu_);
  return entries_.size();
}

size_t ProgramPool::bytes() const {
  std::lock_guard<std::mutex> g(mu_);
  return total_;
}

}  // namespace paw::server
