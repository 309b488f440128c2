// Sampler: greedy rule, PRNG stream (known answers from an independent Python implementation
// of splitmix64 + xoshiro256**), the sampled distribution against softmax(logits / T)
// computed here, and the top-k / top-p / min-p allowed sets computed here independently.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <vector>

#include "paw/runtime/sampling.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

std::vector<float> random_logits(size_t n, uint32_t seed, float scale = 3.0f) {
  std::vector<float> v(n);
  uint64_t s = seed * 2654435761ull + 12345;
  for (auto& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = scale * (static_cast<float>((s >> 40) & 0xFFFF) / 65535.0f * 2.0f - 1.0f);
  }
  return v;
}

// softmax(logits / T) in double, -inf -> 0.
std::vector<double> softmax(const std::vector<float>& l, double T) {
  double mx = -INFINITY;
  for (float x : l) mx = std::max(mx, static_cast<double>(x));
  std::vector<double> p(l.size());
  double sum = 0;
  for (size_t i = 0; i < l.size(); ++i) sum += p[i] = std::exp((l[i] - mx) / T);
  for (auto& x : p) x /= sum;
  return p;
}

// Pearson chi-square of counts against probabilities (bins with expected < 5 pooled).
double chi_square(const std::vector<int>& counts, const std::vector<double>& p, int n, int* dof) {
  double chi = 0, pooled_e = 0, pooled_o = 0;
  int bins = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double e = p[i] * n;
    if (e < 5) {
      pooled_e += e;
      pooled_o += counts[i];
      continue;
    }
    chi += (counts[i] - e) * (counts[i] - e) / e;
    ++bins;
  }
  if (pooled_e > 0) {
    chi += (pooled_o - pooled_e) * (pooled_o - pooled_e) / std::max(pooled_e, 1e-9);
    ++bins;
  }
  *dof = bins - 1;
  return chi;
}

// Chi-square critical value far in the tail (p ≈ 1e-6): mean + 7 standard deviations, generous
// enough for a deterministic test yet far below what a wrong distribution produces.
double chi_limit(int dof) { return dof + 7.0 * std::sqrt(2.0 * dof) + 10.0; }

TEST(Sampler, GreedyPicksArgmaxLowestIdOnTies) {
  Sampler s;
  const std::vector<float> a = {1.0f, 3.0f, 3.0f, 2.0f};
  EXPECT_EQ(s.sample(a), 1);
  const std::vector<float> b = {-INFINITY, -5.0f, -INFINITY, -5.0f};
  EXPECT_EQ(s.sample(b), 1);
  const std::vector<float> c = {0.5f};
  EXPECT_EQ(s.sample(c), 0);
  const std::vector<float> d = {-1.0f, -1.0f, -1.0f, 7.0f, 7.0f};
  EXPECT_EQ(s.sample(d), 3);
}

TEST(Sampler, RejectsBadLogitsAndOptions) {
  Sampler s;
  EXPECT_THROW(s.sample(std::vector<float>{}), Error);
  EXPECT_THROW(s.sample(std::vector<float>{1.0f, NAN}), Error);
  EXPECT_THROW(s.sample(std::vector<float>{1.0f, INFINITY}), Error);
  EXPECT_THROW(s.sample(std::vector<float>{-INFINITY, -INFINITY}), Error);
  SamplingOptions t;
  t.temperature = 1.0f;
  Sampler st(t);
  EXPECT_THROW(st.sample(std::vector<float>{-INFINITY, -INFINITY}), Error);
  auto bad = [](auto mutate) {
    SamplingOptions o;
    mutate(o);
    EXPECT_THROW(Sampler{o}, Error);
  };
  bad([](SamplingOptions& o) { o.temperature = -0.5f; });
  bad([](SamplingOptions& o) { o.temperature = NAN; });
  bad([](SamplingOptions& o) { o.top_k = -1; });
  bad([](SamplingOptions& o) { o.top_p = 0.0f; });
  bad([](SamplingOptions& o) { o.top_p = 1.5f; });
  bad([](SamplingOptions& o) { o.min_p = -0.1f; });
  bad([](SamplingOptions& o) { o.min_p = 1.1f; });
}

TEST(Sampler, PrngStreamMatchesPublishedAlgorithm) {
  // splitmix64 seeding + xoshiro256** (Blackman & Vigna), computed by a separate Python script.
  const struct {
    uint64_t seed;
    uint64_t out[4];
  } cases[] = {
      {0, {0x99ec5f36cb75f2b4ull, 0xbf6e1f784956452aull, 0x1a5f849d4933e6e0ull, 0x6aa594f1262d2d2cull}},
      {42, {0x15780b2e0c2ec716ull, 0x6104d9866d113a7eull, 0xae17533239e499a1ull, 0xecb8ad4703b360a1ull}},
      {0xDEADBEEF, {0xc5555444a74d7e83ull, 0x65c30d37b4b16e38ull, 0x54f773200a4efa23ull, 0x429aed75fb958af7ull}},
  };
  for (const auto& c : cases) {
    SamplingOptions o;
    o.seed = c.seed;
    Sampler s(o);
    for (uint64_t want : c.out) EXPECT_EQ(s.next_u64(), want) << "seed " << c.seed;
  }
}

TEST(Sampler, TopK1EqualsGreedy) {
  for (uint32_t i = 0; i < 200; ++i) {
    auto l = random_logits(64, i);
    if (i % 3 == 0) l[7] = l[40] = *std::max_element(l.begin(), l.end()) + 1.0f;  // a tie: 7 must win
    SamplingOptions o;
    o.temperature = 0.3f + 0.01f * static_cast<float>(i);
    o.top_k = 1;
    o.seed = i;
    Sampler s(o), g;
    EXPECT_EQ(s.sample(l), g.sample(l)) << i;
    if (i % 3 == 0) EXPECT_EQ(s.sample(l), 7);
  }
}

TEST(Sampler, SameSeedSameTokensDifferentSeedsDiffer) {
  const auto l = random_logits(100, 5, 1.0f);
  SamplingOptions o;
  o.temperature = 1.0f;
  o.seed = 77;
  Sampler a(o), b(o);
  std::vector<int32_t> ra, rb;
  for (int i = 0; i < 50; ++i) ra.push_back(a.sample(l)), rb.push_back(b.sample(l));
  EXPECT_EQ(ra, rb);
  o.seed = 78;
  Sampler c(o);
  std::vector<int32_t> rc;
  for (int i = 0; i < 50; ++i) rc.push_back(c.sample(l));
  EXPECT_NE(ra, rc);
}

TEST(Sampler, DistributionOverSeedsMatchesSoftmax) {
  const std::vector<float> l = {2.0f, 1.0f, 0.5f, 0.0f, -1.0f, 1.5f, -INFINITY, 0.25f};
  for (double T : {0.5, 1.0, 2.0}) {
    const auto p = softmax(l, T);
    const int n = 40000;
    std::vector<int> counts(l.size(), 0);
    for (int i = 0; i < n; ++i) {  // one draw per seed: checks seeding, not only the stream
      SamplingOptions o;
      o.temperature = static_cast<float>(T);
      o.seed = static_cast<uint64_t>(i);
      Sampler s(o);
      ++counts[s.sample(l)];
    }
    EXPECT_EQ(counts[6], 0) << "a -inf logit was sampled";
    int dof = 0;
    const double chi = chi_square(counts, p, n, &dof);
    EXPECT_LT(chi, chi_limit(dof)) << "T=" << T;
    // A sampler that ignored the temperature would fail: the check has power.
    if (T != 1.0) {
      int dof1 = 0;
      const double chi1 = chi_square(counts, softmax(l, 1.0), n, &dof1);
      EXPECT_GT(chi1, 10 * chi_limit(dof1)) << "T=" << T;
    }
  }
}

TEST(Sampler, DistributionOfOneStreamMatchesSoftmax) {
  const auto l = random_logits(20, 9, 2.0f);
  SamplingOptions o;
  o.temperature = 0.8f;
  o.seed = 1234;
  Sampler s(o);
  const int n = 40000;
  std::vector<int> counts(l.size(), 0);
  for (int i = 0; i < n; ++i) ++counts[s.sample(l)];
  int dof = 0;
  const double chi = chi_square(counts, softmax(l, 0.8), n, &dof);
  EXPECT_LT(chi, chi_limit(dof));
}

// Allowed set and renormalised probabilities, computed from the definitions in sampling.hpp.
struct Allowed {
  std::vector<double> p;  // 0 outside the set
  bool ambiguous = false; // a top-p boundary within rounding distance: skip the case
};

Allowed allowed_set(const std::vector<float>& l, double T, int k, double top_p, double min_p) {
  const size_t n = l.size();
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  // (std::sort with an explicit tie rule: stable_sort's temporary buffer trips ASan's
  // new/free pairing check under alloc_test.cpp's global operator new replacement.)
  std::sort(order.begin(), order.end(), [&](int a, int b) { return l[a] != l[b] ? l[a] > l[b] : a < b; });
  std::vector<char> keep(n, 1);
  if (k > 0)
    for (size_t r = static_cast<size_t>(k); r < n; ++r) keep[order[r]] = 0;
  // probabilities over the survivors
  double mx = -INFINITY;
  for (size_t i = 0; i < n; ++i)
    if (keep[i]) mx = std::max(mx, double(l[i]));
  std::vector<double> w(n, 0.0);
  double sum = 0;
  for (size_t i = 0; i < n; ++i)
    if (keep[i]) sum += w[i] = std::exp((l[i] - mx) / T);
  Allowed a;
  if (top_p < 1.0) {
    double cum = 0;
    bool done = false;
    for (int i : order) {
      if (!keep[i]) continue;
      if (done) {
        keep[i] = 0;
        continue;
      }
      cum += w[i] / sum;
      if (std::abs(cum - top_p) < 1e-6) a.ambiguous = true;
      if (cum >= top_p) done = true;
    }
  }
  double wmax = 0;
  for (size_t i = 0; i < n; ++i)
    if (keep[i]) wmax = std::max(wmax, w[i]);
  for (size_t i = 0; i < n; ++i) {
    if (keep[i] && std::abs(w[i] - min_p * wmax) < 1e-9 * wmax) a.ambiguous = true;
    if (keep[i] && w[i] < min_p * wmax) keep[i] = 0;
  }
  a.p.assign(n, 0.0);
  double s2 = 0;
  for (size_t i = 0; i < n; ++i)
    if (keep[i]) s2 += a.p[i] = w[i];
  for (auto& x : a.p) x /= s2;
  return a;
}

void check_filters(int k, double top_p, double min_p) {
  int checked = 0;
  for (uint32_t c = 0; c < 40; ++c) {
    const auto l = random_logits(32, 100 + c, 2.5f);
    const double T = 0.5 + 0.05 * c;
    const Allowed want = allowed_set(l, T, k, top_p, min_p);
    if (want.ambiguous) continue;
    ++checked;
    SamplingOptions o;
    o.temperature = static_cast<float>(T);
    o.top_k = k;
    o.top_p = static_cast<float>(top_p);
    o.min_p = static_cast<float>(min_p);
    o.seed = c;
    Sampler s(o);
    const int n = 3000;
    std::vector<int> counts(l.size(), 0);
    for (int i = 0; i < n; ++i) {
      const int32_t t = s.sample(l);
      ASSERT_GT(want.p[t], 0.0) << "token " << t << " is outside the allowed set (case " << c << ")";
      ++counts[t];
    }
    int dof = 0;
    const double chi = chi_square(counts, want.p, n, &dof);
    if (dof > 0) EXPECT_LT(chi, chi_limit(dof)) << "case " << c;
  }
  EXPECT_GT(checked, 30);
}

TEST(Sampler, TopPNeverEmitsExcludedTokens) {
  check_filters(0, 0.5, 0.0);
  check_filters(0, 0.9, 0.0);
}

TEST(Sampler, MinPNeverEmitsExcludedTokens) {
  check_filters(0, 1.0, 0.2);
  check_filters(0, 1.0, 0.05);
}

TEST(Sampler, TopKThenTopPThenMinP) {
  check_filters(5, 1.0, 0.0);
  check_filters(10, 0.8, 0.1);
}

TEST(Sampler, TopPSmallKeepsOnlyTheMostLikely) {
  const std::vector<float> l = {0.0f, 4.0f, 1.0f, 4.0f, 2.0f};  // 1 and 3 tie; 1 sorts first
  SamplingOptions o;
  o.temperature = 1.0f;
  o.top_p = 0.01f;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    o.seed = seed;
    Sampler s(o);
    EXPECT_EQ(s.sample(l), 1);
  }
}

}  // namespace
}  // namespace paw
