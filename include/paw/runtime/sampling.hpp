#pragma once
// Token sampling: greedy, or temperature + top-k + top-p + min-p with an explicit seed.
//
// Greedy (temperature 0): the largest logit; ties go to the lowest id.
// Otherwise, in this order (as Hugging Face transformers applies its warpers):
//   1. temperature: p_i ∝ exp((logit_i - max) / T) over the tokens whose logit is not -inf;
//   2. top-k: keep the k tokens with the largest logits (ties: lower id first);
//   3. top-p: sort the survivors by probability (ties: lower id first), renormalise, keep the
//      shortest prefix whose cumulative probability reaches top_p (at least one token);
//   4. min-p: drop survivors with p < min_p · p_max;
//   5. draw one survivor with probability proportional to its weight.
// Random numbers come from the Sampler's own xoshiro256** generator seeded through splitmix64,
// and probabilities are computed in double, so a seed gives the same tokens on every platform
// and standard library. Each Sampler keeps its own stream: draws advance it.
#include <cstdint>
#include <span>
#include <vector>

namespace paw {

struct SamplingOptions {
  float temperature = 0.0f;  // 0 = greedy (argmax, lowest id wins ties)
  int32_t top_k = 0;         // keep the k most likely tokens (0 = all)
  float top_p = 1.0f;        // keep the smallest set with cumulative probability >= top_p (1 = all)
  float min_p = 0.0f;        // drop tokens with p < min_p * p_max (0 = off)
  uint64_t seed = 0;         // PRNG seed; the same seed and logits give the same tokens
};

class Sampler {
 public:
  // Throws paw::Error for a negative or non-finite temperature, top_k < 0, top_p outside
  // (0, 1] or min_p outside [0, 1].
  explicit Sampler(const SamplingOptions& opt = {});
  // Picks a token from logits [n_vocab]. Allocation-free after the first call. Throws
  // paw::Error for empty logits, a NaN or +inf logit, or when every logit is -inf.
  int32_t sample(std::span<const float> logits);
  const SamplingOptions& options() const { return opt_; }

  // The next raw 64-bit value of the generator (exposed for tests of the stream).
  uint64_t next_u64();
  // Uniform double in [0, 1) with 53 random bits.
  double next_double() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

 private:
  struct Candidate {
    float logit;
    int32_t id;
    double p;  // unnormalised weight
  };
  SamplingOptions opt_;
  uint64_t state_[4];
  std::vector<Candidate> work_;
};

}  // namespace paw
