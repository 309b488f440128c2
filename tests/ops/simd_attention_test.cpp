// SIMD attention (every table this CPU runs) against the scalar reference: GQA groups of 1, 2,
// 3 and 6 (more than one work item per KV head), head sizes that are not a multiple of the
// vector width, contexts longer than one 128-key softmax chunk, F16 and F32 caches, prefill
// and decode, one and two threads.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "ops_test_util.hpp"

namespace paw {
namespace {

using test::random_floats;
using test::Scratch;

struct Shape {
  int64_t n_head, n_head_kv, hd_k, hd_v, pos0, n_tokens;
};

std::vector<float> attend(const KernelTable& kt, DType kv_type, const Shape& sh, int threads, float q_scale) {
  const int64_t n_kv = sh.pos0 + sh.n_tokens;
  const int64_t k_row = sh.n_head_kv * sh.hd_k, v_row = sh.n_head_kv * sh.hd_v;
  auto q = random_floats(static_cast<size_t>(sh.n_tokens * sh.n_head * sh.hd_k), 1, q_scale);
  auto kf = random_floats(static_cast<size_t>(n_kv * k_row), 2);
  auto vf = random_floats(static_cast<size_t>(n_kv * v_row), 3);
  const size_t e = kv_type == DType::F16 ? 2 : 4;
  std::vector<uint8_t> kc(kf.size() * e), vc(vf.size() * e);
  // The cache is written by the scalar reference in both runs, so both read the same bytes.
  for (int64_t j = 0; j < n_kv; ++j) {
    scalar_kernels().store_row(kf.data() + j * k_row, kc.data() + j * k_row * e, kv_type, k_row);
    scalar_kernels().store_row(vf.data() + j * v_row, vc.data() + j * v_row * e, kv_type, v_row);
  }
  std::vector<float> out(static_cast<size_t>(sh.n_tokens * sh.n_head * sh.hd_v), 99.0f);
  AttentionArgs a;
  a.q = q.data();
  a.k = kc.data();
  a.v = vc.data();
  a.kv_type = kv_type;
  a.out = out.data();
  a.n_tokens = sh.n_tokens;
  a.n_head = sh.n_head;
  a.n_head_kv = sh.n_head_kv;
  a.head_dim_k = sh.hd_k;
  a.head_dim_v = sh.hd_v;
  a.pos0 = sh.pos0;
  a.scale = 1.0f / std::sqrt(static_cast<float>(sh.hd_k));
  Scratch s(kt.attention_scratch_bytes(n_kv, sh.hd_v, threads));
  kt.attention(a, s.ctx(threads));
  return out;
}

TEST(SimdAttention, MatchesScalar) {
  const Shape shapes[] = {
      {16, 8, 128, 128, 0, 9},    // Qwen3-0.6B prefill
      {16, 8, 128, 128, 300, 1},  // Qwen3-0.6B decode past three softmax chunks
      {4, 4, 64, 64, 127, 3},     // MHA; the chunk boundary falls between the queries
      {6, 2, 40, 24, 5, 4},       // groups of 3, head sizes not a multiple of 16 (or 8)
      {12, 2, 8, 8, 200, 2},      // groups of 6: two work items per KV head; head size 8
      {2, 1, 128, 128, 0, 1},     // a single key
  };
  for (const KernelTable* kt : available_kernels()) {
    if (kt == &scalar_kernels()) continue;
    for (DType type : {DType::F16, DType::F32})
      for (const auto& sh : shapes)
        for (int threads : {1, 2})
          for (float q_scale : {1.0f, 6.0f}) {  // 6: peaked softmax, rescaling across chunks matters
            SCOPED_TRACE(std::string(kt->name) + " " + std::string(dtype_name(type)) + " heads " +
                         std::to_string(sh.n_head) + "/" + std::to_string(sh.n_head_kv) + " pos0=" +
                         std::to_string(sh.pos0) + " T=" + std::to_string(sh.n_tokens) +
                         " threads=" + std::to_string(threads) + " q_scale=" + std::to_string(q_scale));
            const auto want = attend(scalar_kernels(), type, sh, 1, q_scale);
            const auto got = attend(*kt, type, sh, threads, q_scale);
            // Outputs are convex combinations of values of magnitude ~1-4; F32 rounding of the
            // scores (|s| up to ~50) moves softmax weights by ~1e-6 relative.
            for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], 2e-5) << i;
          }
  }
}

}  // namespace
}  // namespace paw
