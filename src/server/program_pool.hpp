#pragma once
// Opened programs of one server, kept under a memory budget (least recently used evicted).
// An opened program holds its adapter and prefix KV state; a request keeps its program alive
// (shared_ptr) even when it is evicted meanwhile, and an evicted program reopens on its next
// use (its prefix state then comes back from prefix_kv_cache.bin).
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "paw/run.hpp"

namespace paw::server {

class ProgramPool {
 public:
  ProgramPool(const Interpreter& interp, std::string cache_dir, size_t budget_bytes);

  // The opened program for a full program id (already resolved from a slug or prefix).
  std::shared_ptr<const Program> get(const std::string& id);
  size_t loaded() const;
  size_t bytes() const;
  uint64_t opens() const { return opens_; }   // programs opened so far (reopens included)

 private:
  struct Entry {
    std::shared_ptr<const Program> program;
    size_t bytes = 0;
    std::list<std::string>::iterator lru;
  };
  size_t estimate_bytes(const Program& p) const;
  void evict_over_budget(const std::string& keep);

  const Interpreter& interp_;
  std::string cache_dir_;
  size_t budget_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
  std::list<std::string> lru_;     // front = most recently used
  size_t total_ = 0;
  std::map<std::string, std::shared_ptr<std::mutex>> opening_;   // one opener per id
  uint64_t opens_ = 0;
};

}  // namespace paw::server
