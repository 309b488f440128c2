// The forward allocates nothing per token: decode() after warm-up performs no operator new.
// This file replaces the global operator new/delete of test_runtime with counting versions
// (functionally identical: malloc/free underneath).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "common/model_test_util.hpp"
#include "paw/runtime/session.hpp"

namespace {
std::atomic<long> g_news{0};
}

void* operator new(std::size_t n) {
  g_news.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  g_news.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// The nothrow forms too (std::stable_sort uses them): every new must pair with this delete.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_news.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  g_news.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace paw {
namespace {

TEST(Allocation, DecodeAllocatesNothingPerToken) {
  for (const char* args : {"model --arch qwen3 --preset tiny --type q4_K --seed 61", "model --arch gpt2 --preset tiny --type q8_0 --seed 62"}) {
    const std::string path = test::fixture(args);
    const auto model = Model::load(path);
    SessionOptions o;
    o.n_ctx = 64;
    Session s(model, o);
    s.attach(LoraAdapter::load_gguf(test::fixture("lora --rank 32 --type q4_0 --std 0.1 --seed 63 --model " + path)));
    s.prefill(test::sample_tokens(5, static_cast<int32_t>(s.n_vocab()), 1));
    s.decode(3);  // warm-up (OpenMP pools, lazily built tables)
    const long before = g_news.load();
    for (int i = 0; i < 5; ++i) s.decode(static_cast<int32_t>(i + 1));
    EXPECT_EQ(g_news.load() - before, 0) << args << ": decode allocated";
    EXPECT_EQ(s.n_past(), 11);
  }
}

}  // namespace
}  // namespace paw
