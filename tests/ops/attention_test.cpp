// Causal GQA attention over F32 and F16 caches against plain double loops.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "ops_test_util.hpp"
#include "paw/tensor/half.hpp"

namespace paw {
namespace {

using test::random_floats;
using test::Scratch;

struct Shape {
  int64_t n_head, n_head_kv, hd_k, hd_v, pos0, n_tokens;
};

void check(const KernelTable& kt, DType kv_type, const Shape& sh, int threads) {
  SCOPED_TRACE(std::string(kt.name) + " kv=" + std::string(dtype_name(kv_type)) + " heads=" +
               std::to_string(sh.n_head) + "/" + std::to_string(sh.n_head_kv) + " pos0=" + std::to_string(sh.pos0) +
               " T=" + std::to_string(sh.n_tokens));
  const int64_t n_kv = sh.pos0 + sh.n_tokens;
  const int64_t k_row = sh.n_head_kv * sh.hd_k, v_row = sh.n_head_kv * sh.hd_v;
  auto q = random_floats(sh.n_tokens * sh.n_head * sh.hd_k, 1);
  auto kf = random_floats(n_kv * k_row, 2);
  auto vf = random_floats(n_kv * v_row, 3);
  // The cache holds rounded values when it is F16; the reference uses what the cache holds.
  std::vector<uint8_t> kc(n_kv * k_row * 4), vc(n_kv * v_row * 4);
  for (int64_t j = 0; j < n_kv; ++j) {
    const size_t e = kv_type == DType::F16 ? 2 : 4;
    kt.store_row(kf.data() + j * k_row, kc.data() + j * k_row * e, kv_type, k_row);
    kt.store_row(vf.data() + j * v_row, vc.data() + j * v_row * e, kv_type, v_row);
  }
  if (kv_type == DType::F16) {
    for (auto& x : kf) x = f16_to_f32(f32_to_f16(x));
    for (auto& x : vf) x = f16_to_f32(f32_to_f16(x));
  }
  std::vector<float> out(sh.n_tokens * sh.n_head * sh.hd_v);
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

  const int64_t group = sh.n_head / sh.n_head_kv;
  for (int64_t t = 0; t < sh.n_tokens; ++t)
    for (int64_t h = 0; h < sh.n_head; ++h) {
      const int64_t kvh = h / group, n_vis = sh.pos0 + t + 1;
      std::vector<double> p(n_vis);
      double mx = -1e300;
      for (int64_t j = 0; j < n_vis; ++j) {
        double d = 0;
        for (int64_t i = 0; i < sh.hd_k; ++i)
          d += double(q[(t * sh.n_head + h) * sh.hd_k + i]) * kf[j * k_row + kvh * sh.hd_k + i];
        p[j] = d / std::sqrt(double(sh.hd_k));
        mx = std::max(mx, p[j]);
      }
      double z = 0;
      for (auto& v : p) z += (v = std::exp(v - mx));
      for (int64_t i = 0; i < sh.hd_v; ++i) {
        double o = 0;
        for (int64_t j = 0; j < n_vis; ++j) o += p[j] / z * vf[j * v_row + kvh * sh.hd_v + i];
        ASSERT_NEAR(out[(t * sh.n_head + h) * sh.hd_v + i], o, 2e-5) << "t=" << t << " h=" << h << " i=" << i;
      }
    }
}

TEST(Attention, MatchesDoubleLoops) {
  const Shape shapes[] = {
      {4, 2, 16, 16, 0, 5},   // GQA, prefill from empty cache
      {4, 4, 8, 8, 7, 1},     // MHA, single decode step after 7 cached
      {6, 2, 32, 16, 3, 4},   // head_dim_v != head_dim_k, groups of 3
      {2, 1, 128, 128, 0, 1}, // single key
  };
  for (const KernelTable* kt : available_kernels())
    for (DType type : {DType::F32, DType::F16})
      for (const auto& sh : shapes)
        for (int threads : {1, 2}) check(*kt, type, sh, threads);
}

TEST(Attention, FutureKeysAreMasked) {
  // Key 1 is huge and aligned with the query, but query 0 must not see it.
  const float q[] = {1, 0, 1, 0};
  const float k[] = {0, 1, 100, 0};
  const float v[] = {1, 2, 30, 40};
  float out[4];
  AttentionArgs a;
  a.q = q;
  a.k = k;
  a.v = v;
  a.kv_type = DType::F32;
  a.out = out;
  a.n_tokens = 2;
  a.n_head = 1;
  a.n_head_kv = 1;
  a.head_dim_k = 2;
  a.head_dim_v = 2;
  a.scale = 1.0f;
  Scratch s(scalar_kernels().attention_scratch_bytes(2, 2, 1));
  for (const KernelTable* kt : available_kernels()) {
    kt->attention(a, s.ctx(1));
    EXPECT_FLOAT_EQ(out[0], 1.0f);
    EXPECT_FLOAT_EQ(out[1], 2.0f);
    EXPECT_NEAR(out[2], 30.0f, 1e-4);  // query 1 attends almost only to key 1
  }
}

}  // namespace
}  // namespace paw
