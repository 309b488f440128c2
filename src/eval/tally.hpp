#pragma once
// Inside the eval layer: what both evaluators (prompted, program) share — adding a case's
// result to a score, and wall time.
#include <chrono>

#include "paw/eval/evaluator.hpp"

namespace paw::eval {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

inline void add(Score& s, const CaseResult& r) {
  ++s.n;
  s.exact += r.exact ? 1 : 0;
  s.normalised += r.normalised ? 1 : 0;
}

// Counts a finished case in the report's total, its split and its (split, family) group.
inline void tally(ModelReport& rep, const EvalCase& c, const CaseResult& r) {
  add(rep.by_split_family[{c.split, c.family}], r);
  add(rep.by_split[c.split], r);
  add(rep.total, r);
}

}  // namespace paw::eval
