// Kernel benchmarks at Qwen3-0.6B shapes, for the active kernel table (PAW_CPU=scalar|avx2|avx512
// picks another).
//
//   bench_kernels                                  # everything
//   bench_kernels --benchmark_filter='matmul/q8_0' # one weight type
//
// matmul/<type>/<n_in>x<n_out>/T:<tokens>/threads:<n>
//   bytes_per_second = weight bytes streamed per second (the decode roofline: compare with
//   read_bandwidth), FLOP/s = 2·n_in·n_out·tokens per second. Weights are cycled through
//   enough copies (≥ 512 MiB in all, or one copy of the vocabulary head) that every call reads
//   them from DRAM, as a forward pass over a 0.6 GB model does.
// read_bandwidth/threads:<n>
//   sum of a 1 GiB buffer: the memory bandwidth a decode step can hope for.
// lora_q4_0_r64/…: the unmerged LoRA path of one linear (rank 64, Q4_0 A and B).
// decode_group_qkv/lora:<0|1>/threads:<n>: one layer's q/k/v decode job (matmul_group) with
//   and without a rank-64 adapter, from cache: the fixed costs of a group.
// attention, small_ops_per_layer: attention over an F16 cache, and the per-token small ops.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "paw/ops/kernels.hpp"
#include "paw/tensor/dtype.hpp"
#include "paw/tensor/half.hpp"
#include "paw/tensor/interleave.hpp"

namespace {

using paw::DType;

struct Aligned {
  uint8_t* p = nullptr;
  size_t n = 0;
  explicit Aligned(size_t bytes) : p(static_cast<uint8_t*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64))), n(bytes) {}
  ~Aligned() { std::free(p); }
  Aligned(const Aligned&) = delete;
  Aligned& operator=(const Aligned&) = delete;
};

uint64_t g_rng = 0x9E3779B97F4A7C15ull;
uint64_t next_u64() {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return g_rng;
}

void put16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }

// Random but well-formed weights: random level bytes, then every scale field set to a small
// normal half, and float types drawn from a fixed exponent range (no NaN, Inf or subnormals,
// which would not occur in a model and can be slow).
void fill_weights(DType type, uint8_t* dst, size_t bytes, int64_t cols, int64_t rows) {
  for (size_t i = 0; i + 8 <= bytes; i += 8) {
    const uint64_t r = next_u64();
    std::memcpy(dst + i, &r, 8);
  }
  const auto& tr = paw::traits(type);
  const size_t nb = static_cast<size_t>(cols / tr.block_size) * static_cast<size_t>(rows);
  const uint16_t d = paw::f32_to_f16(0.01f);
  for (size_t b = 0; b < nb; ++b) {
    uint8_t* p = dst + b * tr.type_size;
    switch (type) {
      case DType::F32: {
        uint32_t v;
        std::memcpy(&v, p, 4);
        v = 0x3E000000u | (v & 0x807FFFFFu);
        std::memcpy(p, &v, 4);
        break;
      }
      case DType::F16: {
        uint16_t v;
        std::memcpy(&v, p, 2);
        put16(p, static_cast<uint16_t>(0x3000u | (v & 0x83FFu)));
        break;
      }
      case DType::BF16: {
        uint16_t v;
        std::memcpy(&v, p, 2);
        put16(p, static_cast<uint16_t>(0x3E00u | (v & 0x807Fu)));
        break;
      }
      case DType::Q8_0:
      case DType::Q4_0:
      case DType::Q5_0: put16(p, d); break;
      case DType::Q4_1:
      case DType::Q5_1:
      case DType::Q4_K:
      case DType::Q5_K:
        put16(p, d);
        put16(p + 2, d);
        break;
      case DType::Q6_K: put16(p + 208, d); break;
      default: break;
    }
  }
}

// The weights of the benchmark being run, kept while consecutive benchmarks share them.
struct WeightSet {
  DType type{};
  int64_t n_in = 0, n_out = 0;
  size_t matrix_bytes = 0;
  std::vector<std::unique_ptr<Aligned>> copies;
};
WeightSet g_weights;

const WeightSet& weights(DType type, int64_t n_in, int64_t n_out) {
  if (g_weights.type == type && g_weights.n_in == n_in && g_weights.n_out == n_out) return g_weights;
  g_weights.copies.clear();
  g_weights.type = type;
  g_weights.n_in = n_in;
  g_weights.n_out = n_out;
  g_weights.matrix_bytes = *paw::row_bytes(type, n_in) * static_cast<size_t>(n_out);
  const size_t want = size_t{512} << 20;
  const size_t n_copies = std::max<size_t>(1, (want + g_weights.matrix_bytes - 1) / g_weights.matrix_bytes);
  for (size_t i = 0; i < n_copies; ++i) {
    g_weights.copies.push_back(std::make_unique<Aligned>(g_weights.matrix_bytes));
    if (paw::is_interleaved(type)) {  // stored weights, interleaved as a model's are at load
      const DType stored = paw::stored_type(type);
      Aligned q(g_weights.matrix_bytes);
      fill_weights(stored, q.p, g_weights.matrix_bytes, n_in, n_out);
      paw::interleave(paw::MatrixView{stored, n_out, n_in, q.p}, g_weights.copies.back()->p);
    } else {
      fill_weights(type, g_weights.copies.back()->p, g_weights.matrix_bytes, n_in, n_out);
    }
  }
  return g_weights;
}

std::vector<float> random_acts(size_t n) {
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(static_cast<int64_t>(next_u64() % 2001) - 1000) / 500.0f;
  return v;
}

void bm_matmul(benchmark::State& state, DType type, int64_t n_in, int64_t n_out) {
  const int64_t T = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  const paw::KernelTable& kt = paw::kernels();
  const WeightSet& ws = weights(type, n_in, n_out);
  const auto x = random_acts(static_cast<size_t>(T * n_in));
  std::vector<float> y(static_cast<size_t>(T * n_out));
  Aligned scratch(kt.matmul_scratch_bytes(type, n_in, T, threads) + 64);
  const paw::OpContext ctx{threads, scratch.p, scratch.n};
  size_t i = 0;
  for (auto _ : state) {
    const paw::MatrixView w{type, n_out, n_in, ws.copies[i]->p};
    kt.matmul(w, x.data(), y.data(), T, false, ctx);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
    i = (i + 1) % ws.copies.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(ws.matrix_bytes));
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(n_in * n_out * T) * static_cast<double>(state.iterations()),
                                                benchmark::Counter::kIsRate);
  state.SetLabel(kt.name);
}

void bm_read_bandwidth(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const size_t bytes = size_t{1} << 30;
  Aligned buf(bytes);
  const size_t n = bytes / 8;
  auto* v = reinterpret_cast<uint64_t*>(buf.p);
#pragma omp parallel for num_threads(threads)
  for (size_t i = 0; i < n; ++i) v[i] = i;  // touch every page (first-touch by its reader)
  for (auto _ : state) {
    uint64_t total = 0;
#pragma omp parallel for num_threads(threads) reduction(+ : total) schedule(static)
    for (size_t i = 0; i < n; i += 8)
      total += (v[i] + v[i + 1]) + (v[i + 2] + v[i + 3]) + (v[i + 4] + v[i + 5]) + (v[i + 6] + v[i + 7]);
    benchmark::DoNotOptimize(total);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes));
}

// Decode-step attention of Qwen3-0.6B (16 query heads, 8 KV heads, head_dim 128) over an F16
// cache of n_kv positions, one layer.
void bm_attention(benchmark::State& state) {
  const int64_t n_kv = state.range(0), T = state.range(1);
  const int threads = static_cast<int>(state.range(2));
  const paw::KernelTable& kt = paw::kernels();
  const int64_t H = 16, HKV = 8, D = 128;
  const auto q = random_acts(static_cast<size_t>(T * H * D));
  std::vector<uint16_t> k(static_cast<size_t>(n_kv * HKV * D)), v(k.size());
  for (auto& e : k) e = paw::f32_to_f16(static_cast<float>(next_u64() % 1000) / 1000.0f - 0.5f);
  for (auto& e : v) e = paw::f32_to_f16(static_cast<float>(next_u64() % 1000) / 1000.0f - 0.5f);
  std::vector<float> out(static_cast<size_t>(T * H * D));
  Aligned scratch(kt.attention_scratch_bytes(n_kv, D, threads) + 64);
  paw::AttentionArgs a;
  a.q = q.data();
  a.k = k.data();
  a.v = v.data();
  a.kv_type = DType::F16;
  a.out = out.data();
  a.n_tokens = T;
  a.n_head = H;
  a.n_head_kv = HKV;
  a.head_dim_k = a.head_dim_v = D;
  a.pos0 = n_kv - T;
  a.scale = 1.0f / std::sqrt(128.0f);
  const paw::OpContext ctx{threads, scratch.p, scratch.n};
  for (auto _ : state) {
    kt.attention(a, ctx);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(k.size() * 4));
  state.SetLabel(kt.name);
}

// The unmerged LoRA path of one linear: y += s·B·(A·x) with a rank-64 Q4_0 adapter (the
// layout llama.cpp adapters use); bytes = adapter bytes. Compare its time with the matmul of
// the base weight of the same shape.
void bm_lora(benchmark::State& state) {
  const int64_t n_in = state.range(0), n_out = state.range(1), T = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  const bool interleaved = state.range(4) != 0;  // Q4_0_X16, as an adapter is loaded
  const int64_t r = 64;
  const paw::KernelTable& kt = paw::kernels();
  const size_t a_bytes = *paw::row_bytes(DType::Q4_0, n_in) * r, b_bytes = *paw::row_bytes(DType::Q4_0, r) * n_out;
  Aligned a(a_bytes), b(b_bytes), ai(a_bytes), bi(b_bytes);
  fill_weights(DType::Q4_0, a.p, a_bytes, n_in, r);
  fill_weights(DType::Q4_0, b.p, b_bytes, r, n_out);
  paw::MatrixView av{DType::Q4_0, r, n_in, a.p}, bv{DType::Q4_0, n_out, r, b.p};
  if (interleaved) {
    paw::interleave(av, ai.p);
    paw::interleave(bv, bi.p);
    av = {DType::Q4_0_X16, r, n_in, ai.p};
    bv = {DType::Q4_0_X16, n_out, r, bi.p};
  }
  const auto x = random_acts(static_cast<size_t>(T * n_in));
  std::vector<float> y(static_cast<size_t>(T * n_out)), tmp(static_cast<size_t>(T * r));
  Aligned scratch(std::max(kt.matmul_scratch_bytes(av.type, n_in, T, threads),
                           kt.matmul_scratch_bytes(bv.type, r, T, threads)) + 64);
  const paw::OpContext ctx{threads, scratch.p, scratch.n};
  for (auto _ : state) {
    paw::lora_apply(kt, av, bv, 0.25f, x.data(), y.data(), T, tmp.data(), ctx);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(a_bytes + b_bytes));
  state.SetLabel(kt.name);
}

// One decode group as the forward pass runs it at 2+ threads: a layer's q/k/v products
// (Q8_0 interleaved, Qwen3-0.6B shapes, 4.25 MB — from the last-level cache, so the fixed
// costs show: quantizing, claiming, waiting, adding) with, when lora = 1, a rank-64 Q4_0
// adapter on each: the A products in the first round, the B products in the second
// (ForwardRun::linears).
void bm_decode_group(benchmark::State& state) {
  const bool lora = state.range(0) != 0;
  const int threads = static_cast<int>(state.range(1));
  const paw::KernelTable& kt = paw::kernels();
  const int64_t E = 1024, r = 64, outs[3] = {2048, 1024, 1024};
  std::vector<std::unique_ptr<Aligned>> mats;
  const auto make = [&](int64_t rows, int64_t cols, DType stored) {
    const size_t bytes = *paw::row_bytes(stored, cols) * static_cast<size_t>(rows);
    Aligned plain(bytes);
    fill_weights(stored, plain.p, bytes, cols, rows);
    const DType x16 = paw::interleaved_type(stored);
    mats.push_back(std::make_unique<Aligned>(paw::interleaved_bytes(x16, rows, cols)));
    paw::interleave(paw::MatrixView{stored, rows, cols, plain.p}, mats.back()->p);
    return paw::MatrixView{x16, rows, cols, mats.back()->p};
  };
  const auto x = random_acts(static_cast<size_t>(E));
  std::vector<float> y(2048 + 1024 + 1024), tmp(3 * r), b_out(y.size());
  std::vector<paw::MatmulCall> first, second;
  size_t scratch_bytes = 64;
  float* yp = y.data();
  float* tp = tmp.data();
  float* bp = b_out.data();
  for (int64_t n_out : outs) {
    first.push_back({make(n_out, E, DType::Q8_0), x.data(), yp, false});
    scratch_bytes += paw::matmul_group_scratch_bytes(kt, DType::Q8_0_X16, E, threads);
    if (lora) {
      first.push_back({make(r, E, DType::Q4_0), x.data(), tp, false});
      second.push_back({make(n_out, r, DType::Q4_0), tp, bp, false, 0.5f});
      scratch_bytes += paw::matmul_group_scratch_bytes(kt, DType::Q4_0_X16, E, threads) +
                       paw::matmul_group_scratch_bytes(kt, DType::Q4_0_X16, r, threads);
    }
    yp += n_out;
    tp += r;
    bp += n_out;
  }
  Aligned scratch(scratch_bytes);
  const paw::OpContext ctx{threads, scratch.p, scratch.n};
  size_t bytes = 0;
  for (const auto& m : mats) bytes += m->n;
  for (auto _ : state) {
    paw::matmul_group(kt, first, second, ctx);
    if (lora) kt.add(y.data(), b_out.data(), y.data(), static_cast<int64_t>(y.size()));
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes));
  state.SetLabel(kt.name);
}

void bm_small_ops(benchmark::State& state) {
  const paw::KernelTable& kt = paw::kernels();
  const int64_t E = 1024, F = 3072;
  auto x = random_acts(E), w = random_acts(E), g = random_acts(F), u = random_acts(F);
  auto q = random_acts(16 * 128);
  std::vector<float> y(F), cs(64, 0.5f), sn(64, 0.25f);
  for (auto _ : state) {
    kt.rmsnorm(x.data(), w.data(), y.data(), 1, E, 1e-6f);
    kt.swiglu(g.data(), u.data(), y.data(), F);
    kt.rope_neox(q.data(), 1, 16, 128, cs.data(), sn.data());
    kt.add(x.data(), y.data(), x.data(), E);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(kt.name);
}

struct Shape {
  const char* name;
  int64_t n_in, n_out;
};

int register_all() {
  const DType types[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0,    DType::Q4_0,
                         DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::Q4_0_X16, DType::Q8_0_X16};
  // 64x3072: a rank-64 LoRA B matrix (short rows: per-row overhead, not bandwidth, decides).
  const Shape shapes[] = {{"1024x3072", 1024, 3072}, {"3072x1024", 3072, 1024}, {"1024x151936", 1024, 151936},
                          {"64x3072", 64, 3072}};
  const int max_threads = omp_get_max_threads() >= 2 ? 2 : 1;
  for (DType t : types)
    for (const Shape& s : shapes) {
      const bool head = s.n_out > 100000;
      const std::string name = "matmul/" + std::string(paw::dtype_name(t)) + "/" + s.name;
      auto* b = benchmark::RegisterBenchmark(name.c_str(), bm_matmul, t, s.n_in, s.n_out);
      b->ArgNames({"T", "threads"})->UseRealTime()->Unit(benchmark::kMillisecond);
      for (int64_t T : {int64_t{1}, int64_t{64}}) {
        if (head && T > 1) continue;  // prefill computes logits for the last token only
        for (int th = 1; th <= max_threads; ++th) b->Args({T, th});
      }
      if (!head) b->Args({256, max_threads});
    }
  benchmark::RegisterBenchmark("read_bandwidth", bm_read_bandwidth)
      ->ArgNames({"threads"})
      ->DenseRange(1, max_threads)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("attention", bm_attention)
      ->ArgNames({"n_kv", "T", "threads"})
      ->Args({512, 1, max_threads})
      ->Args({2048, 1, max_threads})
      ->Args({256, 256, max_threads})
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
  auto* lora = benchmark::RegisterBenchmark("lora_q4_0_r64", bm_lora);
  lora->ArgNames({"n_in", "n_out", "T", "threads", "interleaved"})->UseRealTime()->Unit(benchmark::kMicrosecond);
  for (int64_t il : {int64_t{0}, int64_t{1}}) {
    lora->Args({1024, 3072, 1, 1, il});
    for (int64_t T : {int64_t{1}, int64_t{64}}) {
      lora->Args({1024, 3072, T, max_threads, il});
      lora->Args({3072, 1024, T, max_threads, il});
    }
  }
  auto* group = benchmark::RegisterBenchmark("decode_group_qkv", bm_decode_group);
  group->ArgNames({"lora", "threads"})->UseRealTime()->Unit(benchmark::kMicrosecond);
  for (int64_t l : {int64_t{0}, int64_t{1}}) group->Args({l, std::max(2, max_threads)});
  benchmark::RegisterBenchmark("small_ops_per_layer", bm_small_ops)->Unit(benchmark::kMicrosecond);
  return 0;
}

const int g_registered = register_all();

}  // namespace

BENCHMARK_MAIN();
