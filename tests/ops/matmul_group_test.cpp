// matmul_group against the table's own matmul, call by call: the grouped job must give the
// same bits (the header promises it), for every table, with members and non-members mixed.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "ops/ops_test_util.hpp"
#include "paw/ops/kernels.hpp"

namespace paw {
namespace {

using test::make_matrix;
using test::random_floats;
using test::Scratch;
using test::TestMatrix;

// A decode-step-like group: q/k/v-shaped base products with LoRA A matrices beside them
// (shared input), odd row counts, a K-quant, float weights and a rank-128 B (a panel, so not a
// member of the AVX-512 job), interleaved Q4_0 (LoRA as attached), some accumulating into
// non-zero outputs.
struct Case {
  DType type;
  int64_t rows, cols;
  bool accumulate;
};
const Case kCases[] = {
    {DType::Q8_0, 96, 256, false},  {DType::Q4_0, 64, 256, false},  {DType::Q4_0, 37, 256, true},
    {DType::Q4_K, 48, 256, false},  {DType::Q6_K, 33, 256, true},   {DType::F16, 40, 256, false},
    {DType::Q4_0, 200, 64, true},   {DType::Q8_0, 131, 64, true},   {DType::Q4_0, 80, 128, true},
    {DType::F32, 17, 64, true},     {DType::Q5_0, 50, 256, false},  {DType::Q4_1, 64, 256, true},
    // LoRA matrices as a session holds them: A [rank, n_in] and B [n_out, rank] interleaved
    {DType::Q4_0_X16, 64, 256, false}, {DType::Q4_0_X16, 96, 64, true}, {DType::Q4_0_X16, 40, 128, true},
    // base weights interleaved at load (ModelLoadOptions::interleave)
    {DType::Q8_0_X16, 160, 256, false}, {DType::Q8_0_X16, 37, 64, true},
};

struct Group {
  std::vector<TestMatrix> w;
  std::vector<std::vector<float>> x, y0;  // inputs, initial outputs
  Group() {
    uint64_t seed = 100;
    const auto x256 = random_floats(256, 1), x64 = random_floats(64, 2), x128 = random_floats(128, 3);
    for (const Case& c : kCases) {
      w.push_back(test::make_any(c.type, c.rows, c.cols, seed++));
      x.push_back(c.cols == 256 ? x256 : c.cols == 64 ? x64 : x128);
      y0.push_back(c.accumulate ? random_floats(static_cast<size_t>(c.rows), seed++) : std::vector<float>(c.rows, 7.0f));
    }
  }
  // Runs the calls (grouped or one by one) and returns every output.
  std::vector<std::vector<float>> run(const KernelTable& kt, int threads, bool grouped, size_t scratch_bytes) const {
    std::vector<std::vector<float>> y = y0;
    std::vector<MatmulCall> calls;
    for (size_t i = 0; i < w.size(); ++i) calls.push_back({w[i].view, x[i].data(), y[i].data(), kCases[i].accumulate});
    Scratch s(scratch_bytes);
    if (grouped)
      matmul_group(kt, calls, s.ctx(threads));
    else
      for (const MatmulCall& c : calls) kt.matmul(c.w, c.x, c.y, 1, c.accumulate, s.ctx(threads));
    return y;
  }
  size_t group_scratch(const KernelTable& kt, int threads) const {
    size_t n = 0;
    for (const Case& c : kCases) n += matmul_group_scratch_bytes(kt, c.type, c.cols, threads);
    return n;
  }
  size_t single_scratch(const KernelTable& kt, int threads) const {
    size_t n = 0;
    for (const Case& c : kCases) n = std::max(n, kt.matmul_scratch_bytes(c.type, c.cols, 1, threads));
    return n;
  }
};

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(MatmulGroup, EqualsTheCallsOneByOneOnEveryTable) {
  const Group g;
  for (const KernelTable* kt : available_kernels())
    for (int threads : {1, 2, 3}) {
      const auto ref = g.run(*kt, threads, false, g.single_scratch(*kt, threads));
      const auto got = g.run(*kt, threads, true, g.group_scratch(*kt, threads));
      for (size_t i = 0; i < ref.size(); ++i)
        EXPECT_TRUE(same_bits(ref[i], got[i])) << kt->name << " threads " << threads << " call " << i << " ("
                                               << dtype_name(kCases[i].type) << " " << kCases[i].rows << "x"
                                               << kCases[i].cols << ")";
    }
}

TEST(MatmulGroup, ScratchForOnlySomeMembersStillGivesEveryResult) {
  // With room for a few members' activations the rest run alone: same results, just slower.
  const Group g;
  for (const KernelTable* kt : available_kernels()) {
    const auto ref = g.run(*kt, 2, false, g.single_scratch(*kt, 2));
    const size_t small = std::max(g.single_scratch(*kt, 2), g.group_scratch(*kt, 2) / 3);
    const auto got = g.run(*kt, 2, true, small);
    for (size_t i = 0; i < ref.size(); ++i) EXPECT_TRUE(same_bits(ref[i], got[i])) << kt->name << " call " << i;
  }
}

TEST(MatmulGroup, ResultsAreTheProductsThemselves) {
  // Independent of matmul: each output against a double-precision product of the dequantized
  // weights (activation rounding of the integer paths bounded loosely).
  const Group g;
  for (const KernelTable* kt : available_kernels()) {
    const auto got = g.run(*kt, 2, true, g.group_scratch(*kt, 2));
    for (size_t i = 0; i < got.size(); ++i) {
      const Case& c = kCases[i];
      for (int64_t o = 0; o < c.rows; ++o) {
        double dot = 0, mag = 0;
        for (int64_t k = 0; k < c.cols; ++k) {
          dot += double(g.w[i].values[o * c.cols + k]) * g.x[i][k];
          mag += std::abs(double(g.w[i].values[o * c.cols + k]) * g.x[i][k]);
        }
        const double want = (c.accumulate ? g.y0[i][o] : 0.0) + dot;
        ASSERT_NEAR(got[i][o], want, 1e-5 + 0.02 * mag) << kt->name << " call " << i << " row " << o;
      }
    }
  }
}

// Two rounds (LoRA at decode): base products and A products, then B products that read the
// A results scaled in place. Must equal the sequence matmul(A), scale, matmul(B) bit for bit,
// whatever joins the job: interleaved and legacy Q4_0 members, F32 ones that run alone (a
// first-round one before the job, a second-round one after it), with too little scratch.
struct TwoRounds {
  struct Lin {
    TestMatrix w, a, b;
    float scale;
    std::vector<float> y0;
  };
  std::vector<Lin> lins;
  std::vector<float> x = random_floats(256, 40);
  TwoRounds() {
    const DType a_types[] = {DType::Q4_0_X16, DType::Q4_0, DType::F32, DType::Q4_0_X16};
    const DType b_types[] = {DType::Q4_0_X16, DType::F32, DType::Q4_0, DType::Q4_0_X16};
    const int64_t rows[] = {128, 64, 96, 200};
    for (int i = 0; i < 4; ++i) {
      const uint64_t seed = 300 + 10 * static_cast<uint64_t>(i);
      lins.push_back(Lin{test::make_any(i % 2 ? DType::Q8_0_X16 : DType::Q8_0, rows[i], 256, seed), test::make_any(a_types[i], 32 + 32 * (i % 2), 256, seed + 1),
                         test::make_any(b_types[i], rows[i], 32 + 32 * (i % 2), seed + 2), 0.25f + 0.5f * static_cast<float>(i),
                         random_floats(static_cast<size_t>(rows[i]), seed + 3)});
    }
  }
  size_t scratch(const KernelTable& kt, int threads) const {
    size_t n = 0;
    for (const Lin& l : lins)
      for (const TestMatrix* m : {&l.w, &l.a, &l.b}) n += matmul_group_scratch_bytes(kt, m->view.type, m->view.cols, threads);
    return n;
  }
  // Outputs then A results (then, `apart`, B results), for the grouped run or the plain
  // sequence. `apart`: the B products write outputs of their own instead of adding to the
  // base products' (so they depend on their A products alone, and run amid the base rows).
  std::vector<std::vector<float>> run(const KernelTable& kt, int threads, bool grouped, size_t scratch_bytes,
                                      bool apart = false) const {
    std::vector<std::vector<float>> y, tmp, z;
    for (const Lin& l : lins) {
      y.push_back(l.y0);
      tmp.emplace_back(static_cast<size_t>(l.a.view.rows), -1.0f);
      z.emplace_back(static_cast<size_t>(l.w.view.rows), -2.0f);
    }
    Scratch s(scratch_bytes);
    const OpContext ctx = s.ctx(threads);
    if (grouped) {
      std::vector<MatmulCall> first, second;
      for (size_t i = 0; i < lins.size(); ++i) first.push_back({lins[i].w.view, x.data(), y[i].data(), false});
      for (size_t i = 0; i < lins.size(); ++i) {
        first.push_back({lins[i].a.view, x.data(), tmp[i].data(), false});
        second.push_back({lins[i].b.view, tmp[i].data(), apart ? z[i].data() : y[i].data(), !apart, lins[i].scale});
      }
      matmul_group(kt, first, second, ctx);
    } else {
      for (size_t i = 0; i < lins.size(); ++i) {
        kt.matmul(lins[i].w.view, x.data(), y[i].data(), 1, false, ctx);
        kt.matmul(lins[i].a.view, x.data(), tmp[i].data(), 1, false, ctx);
        kt.scale(tmp[i].data(), lins[i].scale, tmp[i].data(), lins[i].a.view.rows);
        kt.matmul(lins[i].b.view, tmp[i].data(), apart ? z[i].data() : y[i].data(), 1, !apart, ctx);
      }
    }
    y.insert(y.end(), tmp.begin(), tmp.end());
    if (apart) y.insert(y.end(), z.begin(), z.end());
    return y;
  }
};

TEST(MatmulGroup, SecondRoundReadsTheFirstRoundsResults) {
  const TwoRounds g;
  for (const KernelTable* kt : available_kernels())
    for (int threads : {1, 2, 3})
      for (bool apart : {false, true}) {
        size_t single = 0;
        for (const auto& l : g.lins)
          for (const TestMatrix* m : {&l.w, &l.a, &l.b})
            single = std::max(single, kt->matmul_scratch_bytes(m->view.type, m->view.cols, 1, threads));
        const auto ref = g.run(*kt, threads, false, single, apart);
        for (size_t scratch : {g.scratch(*kt, threads), std::max(single, g.scratch(*kt, threads) / 3)}) {
          const auto got = g.run(*kt, threads, true, scratch, apart);
          const size_t n = g.lins.size();
          for (size_t i = 0; i < ref.size(); ++i)
            EXPECT_TRUE(same_bits(ref[i], got[i]))
                << kt->name << " threads " << threads << " scratch " << scratch << (apart ? " apart" : "")
                << (i < n ? " output " : i < 2 * n ? " A result " : " B result ") << i % n;
        }
      }
}

TEST(MatmulGroup, EmptyGroupDoesNothing) {
  Scratch s(64);
  for (const KernelTable* kt : available_kernels()) matmul_group(*kt, {}, s.ctx(2));
  SUCCEED();
}

}  // namespace
}  // namespace paw
