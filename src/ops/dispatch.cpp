// Kernel table selection. To add a SIMD table: define it in its own file (compiled with the
// matching -m flags via a function attribute or a per-file option), expose a getter and a
// CPU-support check, and add a Candidate line below, best first.
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ops/scalar.hpp"
#include "ops/simd.hpp"
#include "paw/tensor/half.hpp"
#include "paw/util/cpu_topology.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

KernelTable make_scalar_table() {
  KernelTable t;
  t.name = "scalar";
  t.matmul = scalar::matmul;
  t.matmul_scratch_bytes = scalar::matmul_scratch_bytes;
  t.rmsnorm = scalar::rmsnorm;
  t.layernorm = scalar::layernorm;
  t.rope_neox = scalar::rope_neox;
  t.rope_interleaved = scalar::rope_interleaved;
  t.softmax = scalar::softmax;
  t.silu = scalar::silu;
  t.gelu = scalar::gelu;
  t.swiglu = scalar::swiglu;
  t.add = scalar::add;
  t.add_rows = scalar::add_rows;
  t.scale = scalar::scale;
  t.attention = scalar::attention;
  t.attention_scratch_bytes = scalar::attention_scratch_bytes;
  t.store_row = scalar::store_row;
  return t;
}

struct Candidate {
  const KernelTable* (*get)();
  bool (*supported)();
};

const KernelTable* scalar_getter() { return &scalar_kernels(); }
bool always() { return true; }

// Best first. SIMD tables go above the scalar one.
constexpr Candidate kCandidates[] = {
    {avx512::table, cpu::has_avx512},
    {avx2::table, cpu::has_avx2},
    {scalar_getter, always},
};

const std::vector<const KernelTable*>& available_list() {
  static const std::vector<const KernelTable*> list = [] {
    std::vector<const KernelTable*> v;
    for (const auto& c : kCandidates)
      if (c.supported()) v.push_back(c.get());
    return v;
  }();
  return list;
}

}  // namespace

const KernelTable& scalar_kernels() {
  static const KernelTable table = make_scalar_table();
  return table;
}

std::span<const KernelTable* const> available_kernels() { return available_list(); }

const KernelTable* find_kernels(std::string_view name) {
  for (const KernelTable* t : available_list())
    if (name == t->name) return t;
  return nullptr;
}

const KernelTable& kernels() {
  static const KernelTable* chosen = [] {
    const char* env = std::getenv("PAW_CPU");
    if (env && *env) {
      if (const KernelTable* t = find_kernels(env)) return t;
      std::fprintf(stderr, "paw: PAW_CPU=%s is not an available kernel set; using %s\n", env,
                   available_list().front()->name);
    }
    return available_list().front();
  }();
  return *chosen;
}

int default_thread_count() {
  // OMP_NUM_THREADS is an explicit choice; otherwise one thread per physical core.
  if (const char* env = std::getenv("OMP_NUM_THREADS"); env && *env) return omp_get_max_threads();
  static const int cores = physical_core_count();
  return cores > 0 ? cores : omp_get_max_threads();
}

namespace ops_detail {

const float* f16_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (uint32_t i = 0; i < 65536; ++i) t[i] = f16_to_f32(static_cast<uint16_t>(i));
    return t;
  }();
  return table.data();
}

void check_scratch(const OpContext& ctx, size_t need, const char* kernel) {
  if (need > 0 && (ctx.scratch == nullptr || ctx.scratch_bytes < need))
    throw Error(std::string(kernel) + ": scratch of " + std::to_string(ctx.scratch_bytes) + " bytes, needs " +
                    std::to_string(need),
                "ops", "size the workspace with the kernel's *_scratch_bytes() for this shape and thread count");
}

}  // namespace ops_detail
}  // namespace paw
