// Sampler: greedy argmax, or temperature → top-k → top-p → min-p → draw (see sampling.hpp).
#include "paw/runtime/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "paw/util/error.hpp"

namespace paw {
namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// Larger logit first; the lower id first among equal logits.
template <class C>
bool by_logit(const C& a, const C& b) {
  return a.logit != b.logit ? a.logit > b.logit : a.id < b.id;
}

void check_logits(std::span<const float> logits) {
  if (logits.empty()) throw Error("no logits to sample from", "Sampler::sample", "evaluate at least one token first");
  for (size_t i = 0; i < logits.size(); ++i)
    if (std::isnan(logits[i]) || logits[i] == INFINITY)
      throw Error("logit of token " + std::to_string(i) + " is " + (std::isnan(logits[i]) ? "NaN" : "+inf"),
                  "Sampler::sample", "the model produced non-finite values; check the weights");
}

}  // namespace

Sampler::Sampler(const SamplingOptions& opt) : opt_(opt) {
  if (!std::isfinite(opt.temperature) || opt.temperature < 0)
    throw Error("temperature must be >= 0, got " + std::to_string(opt.temperature), "SamplingOptions");
  if (opt.top_k < 0) throw Error("top_k must be >= 0, got " + std::to_string(opt.top_k), "SamplingOptions");
  if (!(opt.top_p > 0 && opt.top_p <= 1))
    throw Error("top_p must be in (0, 1], got " + std::to_string(opt.top_p), "SamplingOptions");
  if (!(opt.min_p >= 0 && opt.min_p <= 1))
    throw Error("min_p must be in [0, 1], got " + std::to_string(opt.min_p), "SamplingOptions");
  uint64_t x = opt.seed;
  for (auto& s : state_) s = splitmix64(x);  // never all zero: splitmix64 is a bijection of distinct inputs
}

uint64_t Sampler::next_u64() {  // xoshiro256**
  const uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

int32_t Sampler::sample(std::span<const float> logits) {
  check_logits(logits);
  const auto n = static_cast<int32_t>(logits.size());
  if (opt_.temperature == 0.0f) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; ++i)
      if (logits[i] > logits[best]) best = i;  // strict: the lowest id keeps a tie
    if (logits[best] == -INFINITY) throw Error("every logit is -inf", "Sampler::sample");
    return best;
  }

  work_.clear();  // keeps its capacity: no allocation after the first call
  work_.reserve(logits.size());
  for (int32_t i = 0; i < n; ++i)
    if (logits[i] != -INFINITY) work_.push_back({logits[i], i, 0.0});
  if (work_.empty()) throw Error("every logit is -inf", "Sampler::sample");

  // top-k: the k largest logits, in a deterministic order.
  if (opt_.top_k > 0 && static_cast<size_t>(opt_.top_k) < work_.size()) {
    std::nth_element(work_.begin(), work_.begin() + opt_.top_k - 1, work_.end(), by_logit<Candidate>);
    work_.resize(static_cast<size_t>(opt_.top_k));
  }

  // Temperature weights relative to the largest surviving logit (so the largest weighs 1).
  float max_logit = -INFINITY;
  for (const Candidate& c : work_) max_logit = std::max(max_logit, c.logit);
  const double inv_t = 1.0 / static_cast<double>(opt_.temperature);
  double total = 0.0;
  for (Candidate& c : work_) {
    c.p = std::exp((static_cast<double>(c.logit) - max_logit) * inv_t);
    total += c.p;
  }

  // top-p over the renormalised distribution, most probable first.
  if (opt_.top_p < 1.0f && work_.size() > 1) {
    std::sort(work_.begin(), work_.end(), by_logit<Candidate>);  // same order as by probability
    const double target = static_cast<double>(opt_.top_p) * total;
    double cum = 0.0;
    size_t keep = 0;
    while (keep < work_.size()) {
      cum += work_[keep].p;
      ++keep;
      if (cum >= target) break;
    }
    work_.resize(keep);
    total = cum;
  }

  // min-p: the largest weight is exactly 1, so the threshold is min_p itself.
  if (opt_.min_p > 0.0f) {
    const double thr = static_cast<double>(opt_.min_p);
    total = 0.0;
    std::erase_if(work_, [&](const Candidate& c) { return c.p < thr; });
    for (const Candidate& c : work_) total += c.p;
  }

  // Draw: the first candidate whose cumulative weight exceeds u · total.
  const double r = next_double() * total;
  double cum = 0.0;
  for (const Candidate& c : work_) {
    cum += c.p;
    if (r < cum) return c.id;
  }
  // Only reachable when u · total rounds up to total: the last candidate that has weight.
  for (auto it = work_.rbegin(); it != work_.rend(); ++it)
    if (it->p > 0) return it->id;
  return work_.front().id;
}

}  // namespace paw
